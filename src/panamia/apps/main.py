"""The main app: identity and sign-in (content arrives with its own routers)."""

from fastapi import FastAPI

from panamia.identity import oauth
from panamia.identity.routes import dev_router, router as identity_router
from panamia.resources import Resources
from panamia.settings import Settings, get_settings
from panamia.web import create_service


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or get_settings()
    routers = [identity_router, oauth.router(settings)]
    if not settings.is_production and not settings.smtp_url:
        routers.append(dev_router)
    app = create_service(
        settings, title="Pana MIA", process_name="app", routers=routers, resources=resources
    )
    oauth.install(app, settings)
    return app
