"""Item and rental statements: they take a session and never commit."""

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.rentals.models import OVERLAP, Rental, RentalItem
from panamia.rentals.states import ACTIVE, RENTALS, Status, Transition, answer_by

items, rentals = RentalItem.__table__, Rental.__table__


def _of_item(column) -> Any:
    return select(column).where(items.c.id == rentals.c.item_id).scalar_subquery()


ITEM_TIMEZONE = _of_item(items.c.timezone).label("timezone")
ITEM_TITLE = _of_item(items.c.title).label("item_title")
VIEW = [*rentals.c, ITEM_TIMEZONE, ITEM_TITLE]


async def insert_item(session: AsyncSession, values: dict[str, Any]) -> Row:
    return (await session.execute(pg_insert(items).values(**values).returning(*items.c))).one()


async def update_item(session: AsyncSession, item_id: str, values: dict[str, Any]) -> Row:
    statement = update(items).where(items.c.id == item_id).values(**values).returning(*items.c)
    return (await session.execute(statement)).one()


async def find_item(session: AsyncSession, item_id: str, *, lock: bool = False) -> Row | None:
    statement = select(items).where(items.c.id == item_id)
    return (await session.execute(statement.with_for_update() if lock else statement)).first()


async def page_items(session: AsyncSession, *, category: str | None, owner_id: str | None,
                     offset: int, limit: int) -> list[Row]:
    conditions = [items.c.available] if owner_id is None else [items.c.owner_id == owner_id]
    if category:
        conditions.append(items.c.category == category)
    statement = (select(items).where(*conditions)
                 .order_by(items.c.created_at.desc(), items.c.id).offset(offset).limit(limit))
    return list((await session.execute(statement)).all())


async def taken(session: AsyncSession, item_id: str, start: datetime, end: datetime):
    """Active rentals of the item whose blocked time meets `[start, end)`: times only."""
    statement = (
        select(rentals.c.starts_at, rentals.c.ends_at, rentals.c.blocked_until)
        .where(rentals.c.item_id == item_id,
               rentals.c.status.in_([s.value for s in ACTIVE]),
               rentals.c.starts_at < end, rentals.c.blocked_until > start)
        .order_by(rentals.c.starts_at)
    )
    return (await session.execute(statement)).all()


async def insert_rental(session: AsyncSession, values: dict[str, Any]) -> Row | None:
    """Insert unless the exclusion constraint finds the time taken: then None. Speculative
    insertion (`ON CONFLICT ON CONSTRAINT … DO NOTHING`) never deadlocks two overlapping
    requests against each other, as two plain INSERTs can (see pets' `insert_booking`)."""
    statement = (pg_insert(rentals).values(**values)
                 .on_conflict_do_nothing(constraint=OVERLAP).returning(*rentals.c))
    return (await session.execute(statement)).first()


async def find(session: AsyncSession, rental_id: str) -> Row | None:
    return (await session.execute(select(*VIEW).where(rentals.c.id == rental_id))).first()


async def page(session: AsyncSession, user_id: str, *, role: str | None, status: str | None,
               offset: int, limit: int) -> list[Row]:
    mine = {"owner": rentals.c.owner_id == user_id, "renter": rentals.c.renter_id == user_id}
    condition = mine[role] if role else or_(*mine.values())
    if status:
        condition = and_(condition, rentals.c.status == status)
    statement = (select(*VIEW).where(condition)
                 .order_by(rentals.c.starts_at.desc(), rentals.c.id).offset(offset).limit(limit))
    return list((await session.execute(statement)).all())


async def expire_batch(session: AsyncSession, step: Transition, now: datetime, limit: int):
    """Expire up to `limit` unanswered requests. SKIP LOCKED: two sweeps split the work, and
    a request being confirmed right now is left to its confirmation."""
    stale = (
        select(rentals.c.id)
        .where(rentals.c.status == Status.REQUESTED.value,
               answer_by(rentals.c.created_at, rentals.c.starts_at) <= now)
        .order_by(rentals.c.created_at).limit(limit).with_for_update(skip_locked=True)
    )
    statement = (
        update(rentals)
        .where(rentals.c.id.in_(stale.scalar_subquery()),
               rentals.c.status.in_([s.value for s in step.sources]))
        .values(**RENTALS.values(step, now, None))
        .returning(*VIEW)
    )
    return (await session.execute(statement)).all()
