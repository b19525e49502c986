"""Reservations: no two active rows hold one resource over overlapping ranges, for any kind
of range (a stay's dates, a rental's times). PostgreSQL decides, through an exclusion
constraint; nothing is checked before the insert.

Ranges are half-open, `[start, end)`: a stay ending on the 4th and one starting on the 4th do
not overlap. The constraint only means what it says with its guards:

* the resource and both ends NOT NULL: a row with a NULL is never compared, so it would slip
  past (the model declares the columns `nullable=False`; the migration sets them so);
* `end > start`: an empty range overlaps nothing, so it would slip past too;
* only active statuses hold their range (the constraint's `WHERE`): a cancelled booking
  frees its nights at once.

A migration calls `create_reservation_constraint`, the model lists `reservation_constraints`
in its `__table_args__`, with the same arguments, so the two agree. The `=` on a text column
inside a GiST index needs the `btree_gist` extension, which the migration creates.
"""

from collections.abc import Sequence
from functools import cache
from typing import Literal

from alembic.operations import Operations
from sqlalchemy import CheckConstraint, Column, MetaData, Table, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import AddConstraint
from sqlalchemy.sql.elements import conv

from panamia import metrics
from panamia.db.postgres import violation
from panamia.errors import Conflict
from panamia.sidecar import registry

RangeType = Literal["daterange", "tstzrange"]
EXCLUSION_VIOLATION = "23P01"


def _range(range_type: RangeType, start: str, end: str) -> str:
    return f"{range_type}({start}, {end}, '[)')"


def _active(status: str, active_statuses: Sequence[str]) -> str:
    quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in active_statuses)
    return f"{status} IN ({quoted})"


def reservation_constraints(
    table: str, resource: str, start: str, end: str, *, range_type: RangeType,
    active_statuses: Sequence[str], name: str, ordered: str = "range_not_empty",
    status: str = "status",
) -> tuple[ExcludeConstraint, CheckConstraint]:
    """The exclusion constraint `name` and the CHECK `ck_<table>_<ordered>`, for a model's
    `__table_args__`."""
    return (
        ExcludeConstraint(
            (resource, "="), (text(_range(range_type, start, end)), "&&"),
            name=name, using="gist", where=text(_active(status, active_statuses)),
        ),
        CheckConstraint(f"{end} > {start}", name=conv(f"ck_{table}_{ordered}")),
    )


def create_reservation_constraint(
    op: Operations, table: str, resource: str, start: str, end: str, *,
    range_type: RangeType, active_statuses: Sequence[str], name: str,
    ordered: str = "range_not_empty", status: str = "status",
) -> None:
    """Write the exclusion constraint and its guards on a table a migration has just created:
    the very constraints `reservation_constraints` declares, and NOT NULL on their columns."""
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for column in (resource, start, end):
        op.alter_column(table, column, nullable=False)
    target = Table(table, MetaData(), *(Column(c) for c in (resource, start, end, status)))
    for constraint in reservation_constraints(
        table, resource, start, end, range_type=range_type, active_statuses=active_statuses,
        name=name, ordered=ordered, status=status,
    ):
        target.append_constraint(constraint)
        op.execute(AddConstraint(constraint))


def drop_reservation_constraint(
    op: Operations, table: str, *, name: str, ordered: str = "range_not_empty"
) -> None:
    op.drop_constraint(name, table)
    op.drop_constraint(conv(f"ck_{table}_{ordered}"), table)


def refused(constraint: str, detail: str) -> Conflict:
    """The 409 of a reservation that `constraint` refused (an `ON CONFLICT (constraint) DO
    NOTHING` that wrote no row, or its violation), counted in /metrics by sidecar and
    constraint."""
    metrics.BOOKING_CONFLICTS.labels(sidecar_guarded_by(constraint), constraint).inc()
    return Conflict(detail)


def conflict_from(exc: DBAPIError, constraint: str, detail: str) -> Conflict | None:
    """The 409 to raise when `exc` is `constraint` refusing an overlap, else None."""
    if violation(exc) == (EXCLUSION_VIOLATION, constraint):
        return refused(constraint, detail)
    return None


@cache
def sidecar_guarded_by(constraint: str) -> str:
    """The name of the sidecar whose declared models hold `constraint`."""
    for sidecar in registry.discover():
        for module in sidecar.models:
            for member in vars(module).values():
                table = getattr(member, "__table__", None)
                if table is not None and any(c.name == constraint for c in table.constraints):
                    return sidecar.name
    return "unknown"
