"""The pet-sitting sidecar, declared once: found through the `panamia.sidecars` entry point."""

from panamia.outbox import relay
from panamia.pets import demo, profile
from panamia.pets.bookings import expiry
from panamia.pets.bookings.blocking import ACTIVE_BOOKINGS
from panamia.pets.bookings.messages import models as message_models
from panamia.pets.bookings.messages import pages as message_pages
from panamia.pets.bookings.messages.routes import router as messages_router
from panamia.pets import models as booking_models
from panamia.pets.bookings import pages as booking_pages
from panamia.pets.bookings.routes import router as bookings_router
from panamia.pets.cli import pets_app
from panamia.pets.dashboard import pages as dashboard_pages
from panamia.pets.dashboard.routes import router as dashboard_router
from panamia.pets.listings import models as listing_models
from panamia.pets.listings import pages as listing_form
from panamia.pets.listings import photo as listing_photo
from panamia.pets import pages as listing_pages
from panamia.pets.listings.routes import router as listings_router
from panamia.pets.reviews import models as review_models
from panamia.pets.reviews.routes import router as reviews_router
from panamia.sidecar.registry import Sidecar

SIDECAR = Sidecar(
    name="pets",
    title="Pana MIA pet sitting",
    default_port=8001,
    routers=(listings_router, reviews_router, bookings_router, dashboard_router,
             messages_router, listing_photo.router),
    # The listing form's `/listings/new` before the listing's `/listings/{listing_id}`.
    page_routers=(listing_form.router, listing_pages.router, booking_pages.router,
                  dashboard_pages.router, message_pages.router, listing_photo.page_router),
    models=(listing_models, booking_models, review_models, message_models),
    demo=demo,
    cli=pets_app,
    background=(relay.run_forever, expiry.run_forever),
    public_url=lambda settings: settings.pets_url,
    docs="docs/pets.md",
    deletion_blockers=ACTIVE_BOOKINGS,
    profile_section=profile.profile_section,
)
