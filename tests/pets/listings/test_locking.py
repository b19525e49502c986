"""The row-lock argument of `add_blackout`, on real commits and two real connections.

These tests commit, so they make their own users and delete them (and, by cascade, their
listings, bookings and blackouts) at the end.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import delete, insert, select, text

from panamia.db.postgres import create_sessionmaker, new_id
from panamia.errors import Conflict
from panamia.identity.models import User
from panamia.pets.models import Booking
from panamia.pets.listings import service
from panamia.pets.listings.schemas import BlackoutCreate, ListingPatch
from panamia.resources import Resources
from tests.identity.factories import create_user
from tests.pets.factories import NEXT_YEAR, create_listing
from tests.profiles.factories import principal

TIMEOUT = 10.0


@pytest.fixture
async def committed(engine, resources) -> AsyncIterator[Resources]:
    """Resources whose transactions really commit, on the worker's database."""
    sessionmaker = create_sessionmaker(engine)
    real = Resources(settings=resources.settings, db=sessionmaker, reads=sessionmaker,
                     mongo=resources.mongo, mailer=resources.mailer)
    made: list[str] = []
    real.extras["users"] = made
    yield real
    async with engine.begin() as conn:
        # Active bookings hold their users (a trigger on users); remove them first.
        await conn.execute(delete(Booking).where(
            Booking.owner_id.in_(made) | Booking.sitter_id.in_(made)))
        await conn.execute(delete(User).where(User.id.in_(made)))


async def person(real: Resources) -> str:
    user_id = await create_user(real)
    real.extras["users"].append(user_id)
    return user_id


async def open_booking(engine, listing, owner_id: str, start: date, end: date):
    """A connection in the middle of inserting a booking: it holds the listing's row in
    FOR KEY SHARE (through the foreign key) until it commits or rolls back."""
    conn = await engine.connect()
    await conn.begin()
    await conn.execute(insert(Booking).values(
        id=new_id(), listing_id=listing.id, sitter_id=listing.sitter_id, owner_id=owner_id,
        start_date=start, end_date=end, status="pending", total_price=listing.price_per_day,
        currency=listing.currency,
    ))
    return conn


async def blocked_by(engine, holder) -> bool:
    """Whether some session waits for a lock that `holder`'s connection holds (other tests'
    sessions on this database may wait for locks of their own meanwhile)."""
    holder_pid = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    # Autocommit: inside a transaction pg_stat_activity is a snapshot taken once.
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(int(TIMEOUT / 0.02)):
            waiting = (await conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE CAST(:holder AS integer) = ANY(pg_blocking_pids(pid))"
            ), {"holder": holder_pid})).scalar_one()
            if waiting:
                return True
            await asyncio.sleep(0.02)
    return False


async def test_a_blackout_waits_for_a_booking_being_inserted_and_then_sees_it(
    engine, committed
):
    listing = await create_listing(committed, sitter_id=await person(committed))
    booking = await open_booking(engine, listing, await person(committed),
                                 date(NEXT_YEAR, 9, 1), date(NEXT_YEAR, 9, 5))
    try:
        adding = asyncio.create_task(service.add_blackout(
            committed, principal(listing.sitter_id), listing.id,
            BlackoutCreate(start_date=date(NEXT_YEAR, 9, 3), end_date=date(NEXT_YEAR, 9, 10)),
        ))
        assert await blocked_by(engine, booking)
        assert not adding.done()
        await booking.commit()
        with pytest.raises(Conflict):
            await asyncio.wait_for(adding, TIMEOUT)
    finally:
        await booking.close()


async def test_bookings_and_listing_edits_do_not_wait_for_open_bookings(engine, committed):
    listing = await create_listing(committed, sitter_id=await person(committed))
    first = await open_booking(engine, listing, await person(committed),
                               date(NEXT_YEAR, 9, 1), date(NEXT_YEAR, 9, 5))
    try:
        second = await asyncio.wait_for(open_booking(
            engine, listing, await person(committed), date(NEXT_YEAR, 9, 5), date(NEXT_YEAR, 9, 8)
        ), TIMEOUT)
        await second.close()
        edited = await asyncio.wait_for(service.update_listing(
            committed, principal(listing.sitter_id), listing.id, ListingPatch(title="Edited")
        ), TIMEOUT)
        assert edited.title == "Edited"
    finally:
        await first.close()
    async with engine.connect() as conn:
        left = (await conn.execute(select(Booking.id).where(Booking.listing_id == listing.id)))
        assert left.all() == []
