"""The sitter's dashboard: their listings, the requests waiting for their answer with the
moment each expires, and the confirmed stays to come."""

from datetime import UTC, datetime, timedelta

from panamia.identity.dependencies import Principal
from panamia.pets.bookings import service as bookings_service
from panamia.pets.bookings.states import PENDING_FOR, Status
from panamia.pets.dashboard.schemas import SitterDashboard, WaitingRequest
from panamia.pets.listings import service as listings_service
from panamia.resources import Resources

AGENDA_SIZE = 100


async def sitter_dashboard(resources: Resources, user: Principal,
                           now: datetime | None = None) -> SitterDashboard:
    now = now or datetime.now(UTC)
    listings = await listings_service.listings_of(resources, user.id)
    # A day's margin for the listings' time zones: a stay ending today somewhere still shows.
    agenda = await bookings_service.sitter_agenda(
        resources, user, ending_from=now.date() - timedelta(days=1), limit=AGENDA_SIZE)
    waiting = [WaitingRequest(**b.model_dump(), answer_by=b.created_at + PENDING_FOR)
               for b in agenda if b.status == Status.PENDING and b.created_at + PENDING_FOR > now]
    upcoming = [b for b in agenda if b.status == Status.CONFIRMED]
    return SitterDashboard(listings=listings, waiting=waiting, upcoming=upcoming)
