"""The pet-sitting sidecar: its own process and port, the main app's users and sessions."""

from fastapi import FastAPI

from panamia.outbox import relay
from panamia.resources import Resources
from panamia.settings import Settings, get_settings
from panamia.web import create_service


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service(
        settings, title="Pana MIA pet sitting", process_name="pets", routers=[],
        resources=resources, background=[relay.run_forever],
    )
