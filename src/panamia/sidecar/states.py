"""Statuses and transitions declared as data, and what follows from the declaration.

A `StateMachine` names a table, its parties (the columns holding their user ids) and its
timing guards; each `Transition` says from which statuses it leads to which, who may take it,
under which guard, which columns it stamps and what it tells the other party. From that:

* `take` runs the one conditional `UPDATE … WHERE id = :id AND status IN (<from>) AND <who>
  AND <guard> RETURNING …`: the transition happens, or nothing changes. A transition racing
  another on the same row waits for its row lock, re-checks the WHERE against what the other
  committed and updates nothing, so two steps from one status never both happen.
* When it changed nothing, a second look at the row, after the UPDATE (so after any racer's
  commit), explains why: 404 unknown or not visible, 403 not this user's to take, 409
  naming the status (and the guard that failed).
* `responses` gives the transition route's `responses=` descriptions, from the same words.

Forcing a status is not offered: every change, a sweep's too, goes through a transition.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, Update, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Conflict, DomainError, Forbidden, NotFound
from panamia.identity.dependencies import Principal
from panamia.notifications.schemas import ActivityType

SYSTEM = "system"  # taken by no user: a sweep
ANY_PARTY = "party"
ADMIN = "admin"  # taken by an administrator, whoever the parties are


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    actor: str  # one party's name, ANY_PARTY, ADMIN or SYSTEM
    timing: str | None = None  # the name of a guard of the machine
    stamp: str | None = None  # the column set to the time of the transition
    by: str | None = None  # the column set to the user who took it
    notice: ActivityType = "Update"  # what the other party is told
    headline: str | None = None  # how that notice begins; the target status if None

    def announced(self) -> str:
        return self.headline or str(self.target).capitalize()


@dataclass(frozen=True)
class Guard:
    """When a transition may happen. `holds(now)` is SQL on the row; `why(row)` ends the
    sentence "The booking is <status>" when it does not; `when` says it in the API docs."""

    holds: Callable[[datetime], ColumnElement[bool]]
    why: Callable[[Row], str]
    when: str


@dataclass(frozen=True)
class StateMachine:
    table: Table
    noun: str
    transitions: Mapping[str, Transition]
    parties: Mapping[str, str]  # party name -> column of its user id, in the order prose names them
    guards: Mapping[str, Guard] = field(default_factory=dict)
    status: str = "status"

    def __post_init__(self):
        """A declaration naming a party, a guard or a column that does not exist fails here."""
        columns = set(self.table.c.keys())
        for step in self.transitions.values():
            assert step.actor in (*self.parties, ANY_PARTY, ADMIN, SYSTEM), step
            assert step.timing is None or step.timing in self.guards, step
            assert {c for c in (step.stamp, step.by) if c} <= columns, step

    def who(self, step: Transition) -> str:
        if step.actor == ANY_PARTY:
            return "its " + " or ".join(self.parties)
        if step.actor == ADMIN:
            return "an admin"
        return f"the {step.actor}"

    def _is_actor(self, step: Transition, user_id: str | None) -> ColumnElement[bool]:
        if step.actor in (SYSTEM, ADMIN):  # an admin's role is not in the row: see `take`
            return literal(True)
        names = self.parties if step.actor == ANY_PARTY else [step.actor]
        return or_(*(self.table.c[self.parties[n]] == user_id for n in names))

    def values(self, step: Transition, now: datetime, user_id: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {self.status: str(step.target)}
        if "updated_at" in self.table.c:
            values["updated_at"] = now
        if step.stamp:
            values[step.stamp] = now
        if step.by:
            values[step.by] = user_id
        return values

    def statement(
        self, step: Transition, row_id: str, user_id: str | None, now: datetime
    ) -> Update:
        """The transition's conditional UPDATE of one row, before its RETURNING."""
        guard = self.guards[step.timing].holds(now) if step.timing else literal(True)
        return (
            update(self.table)
            .where(self.table.c.id == row_id,
                   self.table.c[self.status].in_([str(s) for s in step.sources]),
                   self._is_actor(step, user_id), guard)
            .values(**self.values(step, now, user_id))
        )

    async def take(
        self, session: AsyncSession, name: str, row_id: str, user: Principal | None,
        now: datetime, *, returning: Sequence[ColumnElement],
        values: Mapping[str, Any] | None = None,
    ) -> Row:
        """The transition, also setting `values` (columns of the step's own, such as a timer)."""
        step = self.transitions[name]
        if step.actor == ADMIN and not (user is not None and user.is_admin):
            raise Forbidden(f"Only {self.who(step)} may {step.name} this {self.noun}.")
        user_id = user.id if user else None
        statement = (self.statement(step, row_id, user_id, now)
                     .values(**(values or {})).returning(*returning))
        row = (await session.execute(statement)).first()
        if row is None:
            found = (await session.execute(
                select(self.table).where(self.table.c.id == row_id)
            )).first()
            raise self.refusal(step, user, found)
        return row

    def visible(self, user: Principal, row: Row) -> bool:
        """Its parties and admins see a row; to anyone else it does not exist."""
        return user.is_admin or user.id in self._party_ids(row)

    def _party_ids(self, row: Row) -> set[str]:
        return {getattr(row, column) for column in self.parties.values()}

    def refusal(self, step: Transition, user: Principal | None, row: Row | None) -> DomainError:
        """Why the conditional UPDATE changed nothing, given the row as it is now."""
        if row is None or (user is not None and not self.visible(user, row)):
            return NotFound(f"No {self.noun} with this id is visible to you.")
        may = (step.actor in (SYSTEM, ADMIN) or user is None  # `take` turned non-admins away
               or (user.id in self._party_ids(row) if step.actor == ANY_PARTY
                   else user.id == getattr(row, self.parties[step.actor])))
        if not may:
            return Forbidden(f"Only {self.who(step)} may {step.name} this {self.noun}.")
        status = getattr(row, self.status)
        if status not in step.sources:
            allowed = " or ".join(sorted(step.sources))
            return Conflict(f"The {self.noun} is {status}; only a {allowed} {self.noun} can be "
                            f"{step.target}.")
        if step.timing:
            return Conflict(f"The {self.noun} is {status}{self.guards[step.timing].why(row)}")
        return Conflict(f"The {self.noun} is {status}.")

    def responses(self, name: str) -> tuple[tuple[type[DomainError], str], ...]:
        """How the transition's route refuses, as `errors.responses` takes them."""
        step = self.transitions[name]
        when = f", or not {self.guards[step.timing].when}" if step.timing else ""
        return (
            (Forbidden, f"Only {self.who(step)} may {step.name} it; or CSRF token missing"),
            (NotFound, f"No such {self.noun}, or not one of yours"),
            (Conflict, f"Not {' or '.join(sorted(step.sources))}{when}; names its status"),
        )
