"""Booking statements: they take a session (or, on the request path, the transaction's
`Statements`, see `db.driver`) and never commit.

Core statements on the tables rather than ORM entities: rows come back as plain named
tuples with no identity map to fill, and SQLAlchemy's compiled cache plus asyncpg's
prepared statements make a repeat a bind of new parameters.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    and_,
    bindparam,
    case,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia import requestids
from panamia.db.driver import DriverStatement, Statements
from panamia.identity.models import User
from panamia.outbox.models import OutboxEvent
from panamia.outbox.service import NOTIFICATION_CREATE
from panamia.pets.models import Booking
from panamia.pets.bookings.states import ACTIVE, BOOKINGS, PENDING_FOR, Status, Transition
from panamia.pets.listings.models import Listing, ListingBlackout

bookings, listings, blackouts, users, outbox = (
    Booking.__table__, Listing.__table__, ListingBlackout.__table__, User.__table__,
    OutboxEvent.__table__,
)
OVERLAP = "ex_bookings_no_overlap"

VIEW = [
    bookings.c.id, bookings.c.listing_id, bookings.c.owner_id, bookings.c.sitter_id,
    bookings.c.start_date, bookings.c.end_date, bookings.c.status, bookings.c.total_price,
    bookings.c.currency, bookings.c.pets, bookings.c.note, bookings.c.created_at,
    bookings.c.updated_at, bookings.c.confirmed_at, bookings.c.declined_at,
    bookings.c.cancelled_at, bookings.c.cancelled_by, bookings.c.completed_at,
    bookings.c.expired_at,
]
LISTING_TITLE = (
    select(listings.c.title).where(listings.c.id == bookings.c.listing_id)
    .scalar_subquery().label("listing_title")
)


_LISTING = DriverStatement(select(
    listings.c.id, listings.c.sitter_id, listings.c.title, listings.c.price_per_day,
    listings.c.currency, listings.c.species, listings.c.max_pets, listings.c.timezone,
    listings.c.available,
).where(listings.c.id == bindparam("listing_id")).with_for_update(read=True, key_share=True))


async def lock_listing(run: Statements, listing_id: str) -> Row | None:
    """Read the listing and hold FOR KEY SHARE on it until commit, the lock the booking's
    foreign key would take on insert, taken here in a statement of its own.

    Adding a blackout takes FOR UPDATE on the listing, which conflicts: a blackout in flight
    makes this wait, and what comes next (a new statement, so a new READ COMMITTED snapshot)
    sees it if it committed; one that starts later waits for this booking. Checking for
    blackouts inside the statement that waits would not do: a statement's snapshot is taken
    when it starts, before the wait. Two bookings never wait for each other here.
    """
    return await run.first(_LISTING, listing_id=listing_id)


_NEW_BOOKING = [bookings.c[name] for name in (
    "id", "listing_id", "owner_id", "sitter_id", "start_date", "end_date", "status",
    "total_price", "currency", "pets", "note")]
_BOOKED = (
    pg_insert(bookings).values({column: bindparam(column.key) for column in _NEW_BOOKING})
    .on_conflict_do_nothing(constraint=OVERLAP).returning(*VIEW).cte("booked")
)
_AWAY = (
    select(blackouts.c.start_date.label("away_from"), blackouts.c.end_date.label("away_until"))
    .where(blackouts.c.listing_id == bindparam("listing_id"),
           blackouts.c.start_date < bindparam("end_date"),
           blackouts.c.end_date > bindparam("start_date"))
    .order_by(blackouts.c.start_date).limit(1).cte("away")
)
# Written only with the booking. Columns left out take the model's defaults. The event (and
# so the sitter's notification) takes the booking's id: a request has one notice, and a
# second cuid2 would cost as much CPU as the statement's own binding.
_NOTICE = insert(outbox).from_select(
    ["id", "topic", "payload", "request_id"],
    select(bindparam("id", type_=outbox.c.id.type), literal(NOTIFICATION_CREATE),
           bindparam("notice", type_=outbox.c.payload.type),
           bindparam("request_id", type_=outbox.c.request_id.type)).select_from(_BOOKED),
).cte("notice")
_BOOK = DriverStatement(
    select(_BOOKED, _AWAY).select_from(_BOOKED.outerjoin(_AWAY, true())).add_cte(_NOTICE)
)


async def insert_booking(
    run: Statements, values: dict[str, Any], notice: dict[str, Any]
) -> Row | None:
    """Insert the booking with its notice for the sitter, in one statement; None when the
    exclusion constraint finds the nights taken, else the booking's row with `away_from` and
    `away_until` set when a blackout of the listing shares a night with it (the caller then
    rolls back). Run after `lock_listing`, in the same transaction.

    `ON CONFLICT ON CONSTRAINT … DO NOTHING` rather than a plain INSERT that raises 23P01:
    two plain INSERTs of overlapping nights can each add their index entry, each find the
    other's, and wait for each other until the deadlock detector aborts one (40P01, after
    `deadlock_timeout`; measured: 48 in 800 overlapping requests). Speculative insertion
    first waits for any conflicting transaction in flight with nothing inserted yet, then
    backs its own entry out instead of waiting on a younger one, so it never deadlocks. The
    constraint still decides; nothing is checked before the insert.
    """
    return await run.first(_BOOK, **values, notice=notice,
                           request_id=requestids.current())


# The owner's own pending or confirmed booking of a listing sharing a night with the range
# asked for: what to point at when the constraint refuses their request.
OWN_ACTIVE = DriverStatement(
    select(*VIEW)
    .where(bookings.c.listing_id == bindparam("listing_id"),
           bookings.c.owner_id == bindparam("owner_id"),
           # Literals: the driver binds no expanding IN list.
           bookings.c.status.in_([literal_column(f"'{s}'") for s in sorted(ACTIVE)]),
           bookings.c.start_date < bindparam("end_date"),
           bookings.c.end_date > bindparam("start_date"))
    .order_by(bookings.c.start_date).limit(1)
)


async def expire_batch(session: AsyncSession, step: Transition, now: datetime, limit: int):
    """Expire up to `limit` stale requests. SKIP LOCKED: two sweeps (two sidecar processes)
    split the work instead of queueing, and a request being confirmed right now is left to
    its confirmation; the outer WHERE re-checks the status of what was picked."""
    stale = (
        select(bookings.c.id)
        .where(bookings.c.status == Status.PENDING.value,
               bookings.c.created_at <= now - PENDING_FOR)
        .order_by(bookings.c.created_at).limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(bookings)
        .where(bookings.c.id.in_(stale.scalar_subquery()),
               bookings.c.status.in_([s.value for s in step.sources]))
        .values(**BOOKINGS.values(step, now, None))
        .returning(*VIEW, LISTING_TITLE)
    )
    return (await session.execute(statement)).all()


async def find(session: AsyncSession, booking_id: str) -> Row | None:
    owner, sitter = users.alias("owner"), users.alias("sitter")
    statement = (
        select(*VIEW, owner.c.screenname.label("owner_screenname"),
               owner.c.name.label("owner_name"),
               sitter.c.screenname.label("sitter_screenname"),
               sitter.c.name.label("sitter_name"))
        .join(owner, owner.c.id == bookings.c.owner_id)
        .join(sitter, sitter.c.id == bookings.c.sitter_id)
        .where(bookings.c.id == booking_id)
    )
    return (await session.execute(statement)).first()


def with_other_party(other) -> Select:
    """Bookings with the other party's screenname and name, `other` being the column that
    holds their id."""
    return (select(*VIEW, users.c.screenname.label("other_party_screenname"),
                   users.c.name.label("other_party_name"))
            .join(users, users.c.id == other))


async def agenda(session: AsyncSession, sitter_id: str, *, ending_from: date,
                 limit: int) -> list[Row]:
    """The sitter's requests waiting for an answer and confirmed stays whose check-out day is
    `ending_from` or later, soonest first, with each owner's screenname and name."""
    statement = (
        with_other_party(bookings.c.owner_id)
        .where(bookings.c.sitter_id == sitter_id,
               or_(bookings.c.status == Status.PENDING.value,
                   and_(bookings.c.status == Status.CONFIRMED.value,
                        bookings.c.end_date >= ending_from)))
        .order_by(bookings.c.start_date, bookings.c.id).limit(limit)
    )
    return list((await session.execute(statement)).all())


async def page(
    session: AsyncSession, user_id: str, *, role: str | None, status: str | None,
    offset: int, limit: int,
) -> list[Row]:
    """The seed's `JOIN users` query: each booking with the other party's screenname."""
    if role == "owner":
        mine, other = bookings.c.owner_id == user_id, bookings.c.sitter_id
    elif role == "sitter":
        mine, other = bookings.c.sitter_id == user_id, bookings.c.owner_id
    else:
        mine = or_(bookings.c.owner_id == user_id, bookings.c.sitter_id == user_id)
        other = case((bookings.c.owner_id == user_id, bookings.c.sitter_id),
                     else_=bookings.c.owner_id)
    statement = (
        with_other_party(other)
        .where(and_(mine, bookings.c.status == status) if status else mine)
        .order_by(bookings.c.start_date.desc(), bookings.c.id)
        .offset(offset).limit(limit)
    )
    return list((await session.execute(statement)).all())
