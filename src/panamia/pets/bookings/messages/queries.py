"""Statements on a booking's thread. They take a session and never commit."""

from sqlalchemy import Row, bindparam, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.models import User
from panamia.pets.bookings.messages.models import BookingMessage
from panamia.pets.listings.models import Listing
from panamia.pets.models import Booking

messages, bookings, listings, users = (
    BookingMessage.__table__, Booking.__table__, Listing.__table__, User.__table__,
)

_BOOKING = (
    select(bookings.c.id, bookings.c.owner_id, bookings.c.sitter_id, bookings.c.status,
           bookings.c.end_date, listings.c.title, listings.c.timezone)
    .join(listings, listings.c.id == bookings.c.listing_id)
    .where(bookings.c.id == bindparam("booking_id"))
)


def _view(source):
    """A message as answered, from `source` (the table, or what an insert returned), with
    its author's name: their name, else their @screenname."""
    name = func.coalesce(func.nullif(users.c.name, ""), literal("@") + users.c.screenname)
    return (
        select(source.c.id, source.c.booking_id, source.c.author_id,
               name.label("author_name"), source.c.body, source.c.created_at)
        .select_from(source)
        .outerjoin(users, users.c.id == source.c.author_id)
    )


async def booking(session: AsyncSession, booking_id: str) -> Row | None:
    """The booking with what its thread needs: its parties, status, check-out day, and its
    listing's title and time zone."""
    return (await session.execute(_BOOKING, {"booking_id": booking_id})).first()


async def insert_message(session: AsyncSession, values: dict) -> Row:
    inserted = insert(messages).values(values).returning(*messages.c).cte("inserted")
    return (await session.execute(_view(inserted))).one()


async def page(session: AsyncSession, booking_id: str, *, offset: int, limit: int,
               newest_first: bool = False) -> list[Row]:
    order = (messages.c.created_at, messages.c.id)
    statement = (
        _view(messages).where(messages.c.booking_id == booking_id)
        .order_by(*(column.desc() for column in order) if newest_first else order)
        .offset(offset).limit(limit)
    )
    return list((await session.execute(statement)).all())
