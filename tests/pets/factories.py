"""Listings made the way sitters make them, bookings written as rows (past the bookings API),
and a client for the pets sidecar that signs in with the main app's cookies."""

from datetime import date, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import insert

from panamia.db.postgres import new_id
from panamia.identity import cookies
from panamia.pets.models import Booking
from panamia.pets.listings import service
from panamia.pets.listings.schemas import ListingCreate, ListingPatch, ListingView
from panamia.resources import Resources
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.profiles.factories import principal

# Dates of next year are always bookable: from tomorrow to at most two years ahead.
NEXT_YEAR = date.today().year + 1
STAY_START = date(NEXT_YEAR, 3, 1)


async def create_listing(
    resources: Resources, *, sitter_id: str | None = None, **overrides
) -> ListingView:
    """A listing by `sitter_id` (a new user when None), made through the service.

    `overrides` are `ListingCreate` fields by Python name (`price_per_day=Decimal("30")`),
    plus `available=False` for a listing its sitter has hidden.
    """
    sitter_id = sitter_id or await create_user(resources)
    available = overrides.pop("available", True)
    fields = {
        "title": "A garden and two walks a day", "description": "Quiet street, fenced yard.",
        "price_per_day": Decimal("45.00"), "currency": "USD", "services": ["boarding"],
        "species": ["dog", "cat"], "max_pets": 2, "city": "Miami", "zip": "33101",
        "timezone": "America/New_York",
    } | overrides
    sitter = principal(sitter_id)
    listing = await service.create_listing(resources, sitter, ListingCreate(**fields))
    if not available:
        patch = ListingPatch(available=False)
        listing = await service.update_listing(resources, sitter, listing.id, patch)
    return listing


async def insert_booking(
    resources: Resources, listing: ListingView, *, owner_id: str | None = None,
    start_date: date = STAY_START, end_date: date | None = None, status: str = "confirmed",
    **values,
) -> str:
    """A booking row written directly, bypassing the bookings service and its rules (the
    database's constraints still apply); returns its id."""
    owner_id = owner_id or await create_user(resources)
    end_date = end_date or start_date + timedelta(days=3)
    booking_id = new_id()
    async with resources.db.begin() as db:
        await db.execute(insert(Booking).values(
            id=booking_id, listing_id=listing.id, sitter_id=listing.sitter_id,
            owner_id=owner_id, start_date=start_date, end_date=end_date, status=status,
            total_price=listing.price_per_day * (end_date - start_date).days,
            currency=listing.currency, **values,
        ))
    return booking_id


async def act_as(
    pets: httpx.AsyncClient, client: httpx.AsyncClient, resources: Resources,
    user_id: str | None,
) -> dict[str, str]:
    """Make `pets` anonymous or signed in as `user_id`, holding a CSRF cookie from the main
    app (`client`, where GET /api/auth/csrf lives); returns the header to send with it."""
    headers = await csrf_headers(client)
    name = cookies.csrf_cookie_name(resources.settings)
    pets.cookies.clear()
    pets.cookies.set(name, client.cookies[name])
    if user_id is not None:
        await sign_in_as(pets, resources, user_id)
    return headers
