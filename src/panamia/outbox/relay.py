"""The relay: claims due events, applies them to MongoDB, records each outcome.

Claims use `FOR UPDATE SKIP LOCKED`, so any number of relays (one in each service process,
plus `panamia outbox relay` workers) share the work without taking an event twice. A batch
is one PostgreSQL transaction: the rows stay locked while their handlers write to MongoDB,
and are marked delivered, or failed with a later `next_attempt_at`, when it commits. A
crash before the commit leaves the events undelivered; handlers are idempotent, so the
replay changes nothing that was already applied.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.errors import ConnectionFailure
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from panamia import metrics
from panamia.db.mongo import MongoDatabase
from panamia.db.postgres import unreachable
from panamia.outbox.handlers import HANDLERS
from panamia.outbox.models import OutboxEvent
from panamia.outbox.service import UNDELIVERED, Event
from panamia.resources import Resources

BATCH_SIZE = 100
INTERVAL = 1.0  # seconds between polls while there is nothing to do
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=5)
MAX_ERROR_PAUSE = 60.0  # seconds, when PostgreSQL itself fails

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 2 s, 4 s, 8 s, … at most 5 minutes."""
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)


@dataclass(frozen=True)
class RelayResult:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0

    def __add__(self, other: "RelayResult") -> "RelayResult":
        return RelayResult(self.claimed + other.claimed, self.delivered + other.delivered,
                           self.failed + other.failed)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


async def _apply(
    events: list[Event], mongo: MongoDatabase, session: AsyncSession
) -> tuple[list[Event], list[tuple[Event, str]]]:
    delivered: list[Event] = []
    failed: list[tuple[Event, str]] = []
    unreachable: str | None = None
    for event in events:
        if unreachable:
            # Each try would wait out the server selection timeout: leave it to a later batch.
            failed.append((event, f"not tried, MongoDB unreachable: {unreachable}"))
            continue
        handler = HANDLERS.get(event.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for topic {event.topic!r} in this version")
            await handler(event, mongo, session)
            delivered.append(event)
            continue
        except ConnectionFailure as exc:
            unreachable = error = _describe(exc)
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the others
            error = _describe(exc)
        failed.append((event, error))
        metrics.RELAY_FAILURES.labels(event.topic).inc()
        logger.warning("outbox event %s (%s) failed, attempt %d: %s",
                       event.id, event.topic, event.attempts + 1, error,
                       extra={"request_id": event.request_id})
    return delivered, failed


async def _record(
    session: AsyncSession, at, delivered: list[Event], failed: list[tuple[Event, str]]
) -> None:
    if delivered:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_([event.id for event in delivered]))
            .values(delivered_at=at)
        )
    groups: dict[tuple[str, int], list[str]] = {}
    for event, error in failed:
        groups.setdefault((error, event.attempts + 1), []).append(event.id)
    for (error, attempts), ids in groups.items():
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_(ids))
            .values(attempts=attempts, last_error=error, next_attempt_at=at + backoff(attempts))
        )


async def relay_once(
    resources: Resources, *, batch_size: int = BATCH_SIZE, now: datetime | None = None
) -> RelayResult:
    """Claim up to `batch_size` due events and apply them. `now` defaults to the database's."""
    at = now if now is not None else func.now()
    async with resources.db.begin() as session:
        rows = await session.execute(
            select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload,
                   OutboxEvent.created_at, OutboxEvent.attempts, OutboxEvent.request_id)
            .where(UNDELIVERED, OutboxEvent.next_attempt_at <= at)
            .order_by(OutboxEvent.next_attempt_at, OutboxEvent.created_at)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        events = [Event(*row) for row in rows]
        if not events:
            return RelayResult()
        delivered, failed = await _apply(events, resources.mongo, session)
        await _record(session, at, delivered, failed)
    for event in delivered:  # once it is recorded
        metrics.RELAY_DELIVERED.labels(event.topic).inc()
        logger.info("outbox event %s (%s) delivered", event.id, event.topic,
                    extra={"request_id": event.request_id})
    return RelayResult(len(events), len(delivered), len(failed))


async def drain(resources: Resources, *, batch_size: int = BATCH_SIZE) -> RelayResult:
    """Relay batches until one is not full: everything due now has been tried once."""
    total = RelayResult()
    while True:
        result = await relay_once(resources, batch_size=batch_size)
        total += result
        if result.claimed < batch_size:
            return total


async def run_forever(
    resources: Resources, *, batch_size: int = BATCH_SIZE, interval: float = INTERVAL,
    stop: asyncio.Event | None = None,
) -> None:
    """Relay until `stop` is set (or the task is cancelled). While PostgreSQL fails, it waits
    twice as long after each failure (up to a minute), and carries on once it answers."""
    stop = stop or asyncio.Event()
    errors = 0
    while not stop.is_set():
        try:
            result = await relay_once(resources, batch_size=batch_size)
            errors, pause = 0, interval
            if result.claimed == batch_size and not result.failed:
                continue
        except Exception as exc:  # noqa: BLE001 - keep relaying once the database is back
            errors += 1
            pause = min(interval * 2 ** errors, MAX_ERROR_PAUSE)
            cause = "PostgreSQL is unavailable" if unreachable(exc) else _describe(exc)
            logger.warning("outbox relay could not run a batch (%s); next try in %gs",
                           cause, pause)
        try:
            await asyncio.wait_for(stop.wait(), pause)
        except TimeoutError:
            pass
