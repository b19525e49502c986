"""Bookings made the way owners make them: through the bookings service."""

from datetime import date, timedelta

from panamia.pets.bookings import service
from panamia.pets.bookings.schemas import BookingRequest, BookingView
from panamia.pets.listings.schemas import ListingView
from panamia.resources import Resources
from tests.identity.factories import create_user
from tests.pets.factories import create_listing
from tests.profiles.factories import principal

FIRST_NIGHT = date.today() + timedelta(days=30)
DOG = {"name": "Rex", "species": "dog"}


def body(listing_id: str, start: date = FIRST_NIGHT, nights: int = 3, **fields) -> dict:
    """A JSON request body for POST /bookings."""
    end = fields.pop("end", None) or start + timedelta(days=nights)
    return {"listingId": listing_id, "startDate": start.isoformat(),
            "endDate": end.isoformat(), "pets": [DOG], "note": "Loves the park"} | fields


async def create_booking(
    resources: Resources, *, listing: ListingView | None = None, owner_id: str | None = None,
    start: date = FIRST_NIGHT, nights: int = 3, status: str = "pending", **fields,
) -> BookingView:
    """A request by `owner_id` (a new user when None) for `listing` (a new one when None),
    then confirmed, declined or cancelled by its sitter when `status` says so."""
    listing = listing or await create_listing(resources)
    owner_id = owner_id or await create_user(resources)
    request = BookingRequest.model_validate(body(listing.id, start, nights, **fields))
    answer = await service.request_booking(resources, principal(owner_id), request)
    assert answer.status == 201, answer.body
    booking = BookingView.model_validate(answer.body)
    step = {"confirmed": "confirm", "declined": "decline", "cancelled": "cancel"}.get(status)
    if step:
        booking = await service.transition(resources, principal(listing.sitter_id), booking.id,
                                           step)
    return booking
