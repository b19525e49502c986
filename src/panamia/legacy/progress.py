"""Checkpoints of the legacy move, and the loop that runs a step one committed batch at a time.

The API other steps build on (phase 3 uses it as phase 2 does):

* `Move`: what every step needs (PostgreSQL sessionmaker, the legacy MongoDB database,
  AUTH_SECRET, the collection prefix, the batch size, a `Ticker` for progress bars, the
  roles the operator keeps).
* `Checkpoint`: one row of `legacy_progress`: `step`, `cursor` (text the step chooses; for
  phase 2 the last legacy `_id` done, see `sources.Stream`), `counts` (JSON: integer
  counters plus `reasons`/`notes` dicts and any parameter a step fixes at its first batch),
  `finished_at`.
* `load(session, step, lock=...)`, `save(session, checkpoint)`, `load_all(session, prefix)`.
* `run_step(db, step, batch, total=..., ticker=...)`: calls `batch(session, checkpoint)` in
  its own transaction until it returns 0. `batch` reads the next records after
  `checkpoint.cursor`, writes through `session`, advances the cursor and counts, and returns
  how many records it read; the loop adds that to `counts["read"]` and commits the batch's
  writes and the checkpoint together, so a batch is all or nothing and a rerun after a
  crash resumes exactly after the last committed batch.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import Sessionmaker
from panamia.legacy.models import LegacyProgress

DEFAULT_BATCH_SIZE = 500
# A unique violation can come from someone signing up with the same email while a batch
# runs; the batch is rolled back and retried, and then sees that user.
RETRIES = 3


class Ticker(Protocol):
    """Where progress goes: Rich bars in the CLI, nothing in tests."""

    def start(self, step: str, total: int | None, done: int) -> None: ...

    def advance(self, step: str, n: int) -> None: ...


class NullTicker:
    def start(self, step: str, total: int | None, done: int) -> None:
        pass

    def advance(self, step: str, n: int) -> None:
        pass


@dataclass
class Move:
    db: Sessionmaker
    mongo: AsyncDatabase
    secret: str
    prefix: str = "nextauth_"
    batch_size: int = DEFAULT_BATCH_SIZE
    ticker: Ticker = field(default_factory=NullTicker)
    keep_roles: frozenset[str] = frozenset()  # legacy roles imported as they are; others: user


@dataclass
class Checkpoint:
    step: str
    cursor: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None

    @property
    def read(self) -> int:
        return self.counts.get("read", 0)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def count_in(self, group: str, key: str, n: int = 1) -> None:
        """A counter inside a named group, e.g. `reasons` or `notes`."""
        counters = self.counts.setdefault(group, {})
        counters[key] = counters.get(key, 0) + n


def _from_row(row: LegacyProgress) -> Checkpoint:
    return Checkpoint(row.step, row.cursor, dict(row.counts or {}), row.finished_at)


async def load(session: AsyncSession, step: str, *, lock: bool = False) -> Checkpoint:
    """The step's checkpoint (an empty one if it never ran). `lock` creates the row if needed
    and holds it FOR UPDATE until the transaction ends, so two runs take turns per batch."""
    query = select(LegacyProgress).where(LegacyProgress.step == step)
    if lock:
        await session.execute(insert(LegacyProgress).values(step=step).on_conflict_do_nothing())
        query = query.with_for_update()
    row = (await session.execute(query.execution_options(populate_existing=True))).scalar()
    return _from_row(row) if row else Checkpoint(step)


async def save(session: AsyncSession, checkpoint: Checkpoint) -> None:
    """Write the checkpoint in the caller's transaction (the row must exist: `load(lock=True)`)."""
    await session.execute(
        update(LegacyProgress).where(LegacyProgress.step == checkpoint.step).values(
            cursor=checkpoint.cursor, counts=checkpoint.counts,
            finished_at=checkpoint.finished_at,
        )
    )


async def load_all(session: AsyncSession, prefix: str = "") -> list[Checkpoint]:
    rows = (await session.execute(
        select(LegacyProgress).where(LegacyProgress.step.startswith(prefix, autoescape=True))
        .order_by(LegacyProgress.step)
    )).scalars()
    return [_from_row(row) for row in rows]


Batch = Callable[[AsyncSession, Checkpoint], Awaitable[int]]


async def run_step(
    db: Sessionmaker, step: str, batch: Batch, *, total: int | None = None,
    ticker: Ticker | None = None,
) -> Checkpoint:
    """Run `batch` until it reads nothing; see the module docstring. A finished step is
    checked again (one empty read), so a rerun picks up records added after it."""
    ticker = ticker or NullTicker()
    async with db() as session:
        ticker.start(step, total, (await load(session, step)).read)
    while True:
        for attempt in range(RETRIES):
            try:
                async with db.begin() as session:
                    checkpoint = await load(session, step, lock=True)
                    n = await batch(session, checkpoint)
                    checkpoint.count("read", n)
                    checkpoint.finished_at = None if n else datetime.now(UTC)
                    await save(session, checkpoint)
                break
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise
        ticker.advance(step, n)
        if not n:
            return checkpoint
