"""The sweep: pending requests unanswered for 48 hours expire (freeing their nights at once).
Idempotency keys go with `panamia purge`, whichever sidecars are installed.

`expire_pending(db, now)` is the one use case; the sidecar runs it every `SWEEP_INTERVAL`
(`run_forever`), `panamia pets expire` runs it once, tests call it with the `now` they need.
Any number of sidecars may sweep at once: each stale request is expired, and notified,
exactly once.
"""

import asyncio
import logging
from datetime import UTC, datetime

from panamia.db.postgres import Sessionmaker
from panamia.pets.bookings import notices, queries
from panamia.pets.bookings.service import view
from panamia.pets.bookings.states import TRANSITIONS
from panamia.resources import Resources
from panamia.sidecar import background

# A request is 48 hours long; being a minute late to expire it costs nothing, and a confirm
# after the 48 hours is refused by its own UPDATE whether or not the sweep has run.
SWEEP_INTERVAL = 60.0
BATCH_SIZE = 500
logger = logging.getLogger(__name__)


async def expire_pending(db: Sessionmaker, now: datetime, *, batch_size: int = BATCH_SIZE):
    """Expire every request still pending 48 hours after it was made; returns their ids."""
    step = TRANSITIONS["expire"]
    expired: list[str] = []
    while True:
        async with db.begin() as session:
            rows = await queries.expire_batch(session, step, now, batch_size)
            for row in rows:
                await notices.transitioned(session, step, view(row), row.listing_title, None)
        expired += [row.id for row in rows]
        if len(rows) < batch_size:
            return expired


async def run_forever(
    resources: Resources, *, interval: float = SWEEP_INTERVAL, stop: asyncio.Event | None = None
) -> None:
    """Sweep until `stop` is set or the task is cancelled; keeps going through outages."""

    async def sweep() -> None:
        expired = await expire_pending(resources.db, datetime.now(UTC))
        if expired:
            logger.info("expired %d booking requests", len(expired))

    await background.repeat(sweep, interval=interval, stop=stop, logger=logger,
                            name="booking sweep")
