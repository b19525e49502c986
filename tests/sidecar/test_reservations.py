"""No double booking for any kind of range: a throw-away table given its constraint by the
migration helper, on a real database, for dates and for times."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.exc import IntegrityError

from panamia.db.postgres import violation
from panamia.errors import Conflict
from panamia.sidecar.reservations import (
    conflict_from,
    create_reservation_constraint,
    reservation_constraints,
)

ACTIVE = ("held", "confirmed")
KINDS = {
    "daterange": (sa.Date(), lambda n: date(2027, 3, 1) + timedelta(days=n)),
    "tstzrange": (sa.DateTime(timezone=True),
                  lambda n: datetime(2027, 3, 1, 9, tzinfo=UTC) + timedelta(hours=n)),
}


def columns(range_type: str, *, nullable: bool) -> list[sa.Column]:
    moment = KINDS[range_type][0]
    return [sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("room", sa.Text, nullable=nullable),
            sa.Column("starts", moment, nullable=nullable),
            sa.Column("ends", moment, nullable=nullable),
            sa.Column("status", sa.Text, nullable=False)]


@dataclass(frozen=True)
class Stays:
    table: sa.Table
    range_type: str
    at: Callable[[int], date | datetime]  # the n-th day, or hour, of the calendar


@pytest.fixture(params=KINDS)
async def stays(request, connection) -> Stays:
    """`stays`, created as a migration would: plain columns, then the helper."""
    range_type = request.param

    def migrate(sync_connection):
        op = Operations(MigrationContext.configure(sync_connection))
        op.create_table("stays", *columns(range_type, nullable=True))
        create_reservation_constraint(op, "stays", "room", "starts", "ends",
                                      range_type=range_type, active_statuses=ACTIVE,
                                      name="ex_stays_no_overlap")

    await connection.run_sync(migrate)
    table = sa.Table("stays", sa.MetaData(), *columns(range_type, nullable=False))
    return Stays(table, range_type, KINDS[range_type][1])


async def book(connection, stays: Stays, first: int | None, last: int | None, *,
               room="blue", status="held") -> IntegrityError | None:
    """Insert the stay `[first, last)`; the database's refusal, if any."""
    at = stays.at
    try:
        async with connection.begin_nested():
            await connection.execute(stays.table.insert().values(
                room=room, status=status, starts=None if first is None else at(first),
                ends=None if last is None else at(last)))
    except IntegrityError as exc:
        return exc
    return None


async def test_overlapping_ranges_of_one_resource_are_refused_as_409(connection, stays):
    assert await book(connection, stays, 0, 3) is None
    refused = await book(connection, stays, 2, 5)

    conflict = conflict_from(refused, "ex_stays_no_overlap", "Taken; choose another time.")
    assert isinstance(conflict, Conflict)
    assert (conflict.status, conflict.detail) == (409, "Taken; choose another time.")


async def test_touching_ranges_and_other_resources_do_not_overlap(connection, stays):
    assert await book(connection, stays, 0, 3) is None
    assert await book(connection, stays, 3, 5) is None  # half-open: the end is free
    assert await book(connection, stays, 0, 3, room="green") is None


@pytest.mark.parametrize("first, last", [(2, 2), (3, 1)])
async def test_an_empty_or_backwards_range_is_refused(connection, stays, first, last):
    refused = await book(connection, stays, first, last)

    assert violation(refused) == ("23514", "ck_stays_range_not_empty")
    assert conflict_from(refused, "ex_stays_no_overlap", "Taken") is None


@pytest.mark.parametrize("missing", ["room", "first", "last"])
async def test_a_null_resource_or_end_is_refused(connection, stays, missing):
    stay = {"first": 0, "last": 3, "room": "blue"} | {missing: None}

    refused = await book(connection, stays, stay["first"], stay["last"], room=stay["room"])

    assert violation(refused)[0] == "23502"


async def test_inactive_statuses_hold_nothing(connection, stays):
    assert await book(connection, stays, 0, 3, status="cancelled") is None
    assert await book(connection, stays, 0, 3, status="confirmed") is None
    assert await book(connection, stays, 1, 2, status="declined") is None
    assert await book(connection, stays, 1, 2) is not None


async def test_the_model_helper_declares_what_the_migration_helper_writes(connection, stays):
    """A model listing `reservation_constraints` matches a table the migration made."""
    modelled = sa.Table(
        "stays_modelled", sa.MetaData(), *columns(stays.range_type, nullable=False),
        *reservation_constraints("stays_modelled", "room", "starts", "ends",
                                 range_type=stays.range_type, active_statuses=ACTIVE,
                                 name="ex_stays_modelled_no_overlap"),
    )
    await connection.run_sync(modelled.create)

    async def definitions(table: str) -> set[tuple[str, str]]:
        rows = await connection.execute(sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype IN ('c', 'x')"
        ), {"table": table})
        return {(name.replace(table, "stays"), definition) for name, definition in rows}

    assert await definitions("stays_modelled") == await definitions("stays")
    assert len(await definitions("stays")) == 2
