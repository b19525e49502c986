"""Listing and blackout statements. Each takes a session and never commits.

Row locks on a listing, weakest first (PostgreSQL's conflict table decides who waits):

* `FOR KEY SHARE` is what inserting a booking takes, through its foreign key to the listing.
  Two of them never wait on each other.
* `FOR NO KEY UPDATE` is what editing a listing takes (its id and sitter never change). It
  does not wait for bookings being inserted either.
* `FOR UPDATE` conflicts with `FOR KEY SHARE`: adding a blackout takes it, so the blackout
  waits for every booking of the listing still being inserted, and new ones wait for it.
"""

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    any_,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.models import User
from panamia.pets.models import ACTIVE_STATUSES, Booking
from panamia.pets.listings.models import Listing, ListingBlackout

FOR_UPDATE: dict[str, bool] = {}
FOR_NO_KEY_UPDATE = {"key_share": True}
FOR_KEY_SHARE = {"read": True, "key_share": True}

# Spelled with literals, exactly as the exclusion constraint `ex_bookings_no_overlap` spells
# them, so the planner can prove its partial GiST index applies (bound parameters would not).
ACTIVE = Booking.status.in_([literal_column(f"'{s}'") for s in ACTIVE_STATUSES])


def nights(start, end) -> ColumnElement:
    return func.daterange(start, end, literal_column("'[)'"))


def overlapping(model: type[Booking] | type[ListingBlackout], start: date, end: date):
    return nights(model.start_date, model.end_date).op("&&")(nights(start, end))


VIEW = select(
    *Listing.__table__.c,
    User.screenname.label("sitter_screenname"),
    User.name.label("sitter_name"),
).join_from(Listing, User, User.id == Listing.sitter_id)


async def view(session: AsyncSession, listing_id: str) -> Row | None:
    return (await session.execute(VIEW.where(Listing.id == listing_id))).first()


async def of_sitter(session: AsyncSession, sitter_id: str) -> list[Row]:
    """The sitter's listings, oldest first, those taking bookings or not."""
    statement = VIEW.where(Listing.sitter_id == sitter_id).order_by(Listing.created_at,
                                                                     Listing.id)
    return list(await session.execute(statement))


async def search(
    session: AsyncSession, *, city: str | None, service: str | None, species: str | None,
    window: tuple[date, date] | None, offset: int, limit: int,
) -> list[Row]:
    """Available listings matching every filter given, newest first; with a window, only those
    free for all of `[start, end)`: no active booking and no blackout overlaps it."""
    query = VIEW.where(Listing.available)
    if city is not None:
        query = query.where(func.lower(Listing.city) == func.lower(city))
    if service is not None:
        query = query.where(literal(service) == any_(Listing.services))
    if species is not None:
        query = query.where(literal(species) == any_(Listing.species))
    if window is not None:
        start, end = window
        query = query.where(
            ~exists().where(
                Booking.listing_id == Listing.id, ACTIVE, overlapping(Booking, start, end)
            ),
            ~exists().where(
                ListingBlackout.listing_id == Listing.id,
                overlapping(ListingBlackout, start, end),
            ),
        )
    query = query.order_by(Listing.created_at.desc(), Listing.id.desc())
    return list(await session.execute(query.offset(offset).limit(limit)))


async def sitter_of(
    session: AsyncSession, listing_id: str, *, lock: dict[str, bool] | None = None
) -> str | None:
    """The listing's sitter, None if there is no such listing; `lock` is one of the modes above."""
    query = select(Listing.sitter_id).where(Listing.id == listing_id)
    if lock is not None:
        query = query.with_for_update(**lock)
    return (await session.execute(query)).scalar_one_or_none()


async def is_available(session: AsyncSession, listing_id: str) -> bool | None:
    """The listing's `available` flag, None if there is no such listing."""
    return (await session.execute(
        select(Listing.available).where(Listing.id == listing_id)
    )).scalar_one_or_none()


async def insert_listing(session: AsyncSession, sitter_id: str, values: dict[str, Any]) -> str:
    return (await session.execute(
        insert(Listing).values(sitter_id=sitter_id, **values).returning(Listing.id)
    )).scalar_one()


async def update_listing(session: AsyncSession, listing_id: str, values: dict[str, Any]) -> None:
    await session.execute(update(Listing).where(Listing.id == listing_id).values(**values))


async def active_booking_over(
    session: AsyncSession, listing_id: str, start: date, end: date
) -> Row | None:
    """One active (pending or confirmed) booking whose nights overlap `[start, end)`."""
    return (await session.execute(
        select(Booking.start_date, Booking.end_date)
        .where(Booking.listing_id == listing_id, ACTIVE, overlapping(Booking, start, end))
        .order_by(Booking.start_date).limit(1)
    )).first()


async def insert_blackout(session: AsyncSession, listing_id: str, start: date, end: date) -> Row:
    return (await session.execute(
        insert(ListingBlackout)
        .values(listing_id=listing_id, start_date=start, end_date=end)
        .returning(*ListingBlackout.__table__.c)
    )).one()


async def delete_blackout(session: AsyncSession, listing_id: str, blackout_id: str) -> bool:
    deleted = await session.execute(
        delete(ListingBlackout)
        .where(ListingBlackout.id == blackout_id, ListingBlackout.listing_id == listing_id)
        .returning(ListingBlackout.id)
    )
    return deleted.first() is not None


async def taken_ranges(
    session: AsyncSession, listing_id: str, start: date, end: date
) -> list[Row]:
    """Active bookings ("booked") and blackouts ("blocked") overlapping `[start, end)`, cut to
    it, in date order. Dates and kind only: no owner, price or note leaves this query."""

    def ranges(model, kind: str, *conditions):
        return select(
            func.greatest(model.start_date, start).label("start_date"),
            func.least(model.end_date, end).label("end_date"),
            literal(kind).label("kind"),
        ).where(model.listing_id == listing_id, overlapping(model, start, end), *conditions)

    query = union_all(ranges(Booking, "booked", ACTIVE), ranges(ListingBlackout, "blocked"))
    return list(await session.execute(query.order_by("start_date", "kind")))
