"""The pet-sitting sidecar's app, built from its declaration like every sidecar's."""

from fastapi import FastAPI

from panamia.pets.sidecar import SIDECAR
from panamia.resources import Resources
from panamia.settings import Settings
from panamia.sidecar.registry import create_app as create_sidecar_app


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    return create_sidecar_app(SIDECAR, settings, resources)
