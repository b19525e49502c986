"""A booking and a blackout over the same nights, each in flight while the other starts: one
of them is refused, never neither. Bookings of other nights never wait for each other.

The booking side inserts (taking FOR KEY SHARE on the listing through the foreign key), then
checks blackouts; the blackout side takes FOR UPDATE on the listing, then checks bookings.
"""

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text

from panamia.apps.pets import create_app
from panamia.db.postgres import new_id
from panamia.errors import Conflict
from panamia.pets.models import Booking
from panamia.pets.listings import service as listings_service
from panamia.pets.listings.models import ListingBlackout
from panamia.pets.listings.schemas import BlackoutCreate
from tests.fixtures.database import lock_waiters, until_waiting
from tests.fixtures.http import asgi_client, signed_in_cookies
from tests.identity.factories import create_user
from tests.pets.bookings.factories import FIRST_NIGHT, body
from tests.pets.factories import create_listing
from tests.profiles.factories import principal

NIGHT = timedelta(days=1)


@pytest.fixture
async def scene(committed, committed_settings):
    """A listing, and the pets sidecar signed in as someone who wants to book it."""
    listing = await create_listing(committed)
    cookies, headers = await signed_in_cookies(committed, await create_user(committed))
    async with asgi_client(create_app(committed_settings, committed)) as pets:
        pets.cookies.update(cookies)
        pets.headers.update(headers)
        yield listing, pets


def booking_row(listing, owner_id: str, start, nights: int) -> dict:
    return {"id": new_id(), "listing_id": listing.id, "sitter_id": listing.sitter_id,
            "owner_id": owner_id, "start_date": start, "end_date": start + nights * NIGHT,
            "status": "pending", "total_price": listing.price_per_day * nights,
            "currency": listing.currency}


class TestBlackoutAfterABookingInFlight:
    @pytest.mark.parametrize("booking_commits", [True, False])
    async def test_waits_for_it_then_sees_it(self, committed, scene, booking_commits):
        listing, _ = scene
        owner = await create_user(committed)
        async with committed.engine.connect() as booking_side:
            await booking_side.begin()
            await booking_side.execute(insert(Booking).values(
                booking_row(listing, owner, FIRST_NIGHT, 3)))
            blackout = asyncio.create_task(listings_service.add_blackout(
                committed, principal(listing.sitter_id), listing.id,
                BlackoutCreate(start_date=FIRST_NIGHT + NIGHT, end_date=FIRST_NIGHT + 2 * NIGHT)))
            await until_waiting(committed)
            if booking_commits:
                await booking_side.commit()
            else:
                await booking_side.rollback()

        if booking_commits:
            with pytest.raises(Conflict):
                await blackout
        else:
            assert (await blackout).start_date == FIRST_NIGHT + NIGHT


class TestBookingAfterABlackoutInFlight:
    @pytest.mark.parametrize("blackout_commits", [True, False])
    async def test_waits_for_it_then_sees_it(self, committed, scene, blackout_commits):
        listing, pets = scene
        async with committed.engine.connect() as blackout_side:
            await blackout_side.begin()
            await blackout_side.execute(text("SELECT 1 FROM listings WHERE id = :id FOR UPDATE"),
                                        {"id": listing.id})
            await blackout_side.execute(insert(ListingBlackout).values(
                id=new_id(), listing_id=listing.id, start_date=FIRST_NIGHT + 2 * NIGHT,
                end_date=FIRST_NIGHT + 5 * NIGHT))
            booking = asyncio.create_task(pets.post("/bookings", json=body(listing.id)))
            await until_waiting(committed)
            if blackout_commits:
                await blackout_side.commit()
            else:
                await blackout_side.rollback()
            response = await booking

        if blackout_commits:
            assert response.status_code == 409 and "away" in response.json()["detail"]
        else:
            assert response.status_code == 201


async def test_bookings_of_other_nights_do_not_wait(committed, scene):
    listing, pets = scene
    owner = await create_user(committed)
    async with committed.engine.connect() as in_flight:
        await in_flight.begin()
        await in_flight.execute(insert(Booking).values(
            booking_row(listing, owner, FIRST_NIGHT, 3)))
        response = await asyncio.wait_for(pets.post("/bookings", json=body(
            listing.id, FIRST_NIGHT + 10 * NIGHT, 2)), 5)
        assert await lock_waiters(committed) == 0
        await in_flight.rollback()
    assert response.status_code == 201


async def test_a_mixed_crowd_leaves_no_booking_over_a_blackout(committed, scene):
    listing, pets = scene
    sitter = principal(listing.sitter_id)
    rng = random.Random(7)

    async def blackout(start, nights):
        try:
            await listings_service.add_blackout(committed, sitter, listing.id, BlackoutCreate(
                start_date=start, end_date=start + nights * NIGHT))
        except Conflict:
            pass

    calls = []
    for _ in range(40):
        start, nights = FIRST_NIGHT + rng.randrange(30) * NIGHT, rng.randint(1, 4)
        if rng.random() < 0.3:
            calls.append(blackout(start, nights))
        else:
            calls.append(pets.post("/bookings", json=body(listing.id, start, nights)))
    answers = await asyncio.gather(*calls)

    assert {a.status_code for a in answers if a is not None} <= {201, 409}
    async with committed.reads() as db:
        overlaps = (await db.execute(
            select(func.count()).select_from(Booking).join(
                ListingBlackout, ListingBlackout.listing_id == Booking.listing_id)
            .where(Booking.status.in_(["pending", "confirmed"]),
                   Booking.start_date < ListingBlackout.end_date,
                   ListingBlackout.start_date < Booking.end_date))).scalar_one()
    assert overlaps == 0
