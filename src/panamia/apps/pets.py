"""The pet-sitting sidecar: its own process and port, the main app's users and sessions."""

from fastapi import FastAPI

from panamia import pages
from panamia.outbox import relay
from panamia.pets.bookings import expiry
from panamia.pets.bookings.routes import router as bookings_router
from panamia.pets.listings.routes import router as listings_router
from panamia.pets.pages import router as pages_router
from panamia.pets.reviews.routes import router as reviews_router
from panamia.resources import Resources
from panamia.settings import Settings, get_settings
from panamia.web import create_service


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Pages first: they answer only browsers, and fall through to the JSON routes otherwise.
    app = create_service(
        settings, title="Pana MIA pet sitting", process_name="pets",
        routers=[pages_router, listings_router, reviews_router, bookings_router],
        resources=resources, background=[relay.run_forever, expiry.run_forever],
    )
    pages.install(app)
    return app
