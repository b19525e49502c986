"""The sweep: requests the owner did not answer within 48 hours, or before their start,
expire (freeing their time at once). Idempotency keys go with `panamia purge`, whichever
sidecars are installed.

`expire_unanswered(resources, now)` is the one use case; the sidecar runs the sweep every
`SWEEP_INTERVAL` (`run_forever`), tests call it with the `now` they need. Any number of
sidecar processes may sweep at once: each request is expired, and notified, exactly once.
"""

import asyncio
import logging
from datetime import UTC, datetime

from panamia.rentals import notices, queries
from panamia.rentals.service import view
from panamia.rentals.states import TRANSITIONS
from panamia.resources import Resources
from panamia.sidecar import background

SWEEP_INTERVAL = 60.0
BATCH_SIZE = 500
logger = logging.getLogger(__name__)


async def expire_unanswered(resources: Resources, now: datetime, *,
                            batch_size: int = BATCH_SIZE) -> list[str]:
    """Expire every request whose time to answer has passed; returns their ids."""
    step = TRANSITIONS["expire"]
    expired: list[str] = []
    while True:
        async with resources.db.begin() as session:
            rows = await queries.expire_batch(session, step, now, batch_size)
            for row in rows:
                await notices.transitioned(session, resources.settings, step, view(row),
                                           row.item_title, None)
        expired += [row.id for row in rows]
        if len(rows) < batch_size:
            return expired


async def run_forever(resources: Resources, *, interval: float = SWEEP_INTERVAL,
                      stop: asyncio.Event | None = None) -> None:
    """Sweep until `stop` is set or the task is cancelled; keeps going through outages."""

    async def sweep() -> None:
        expired = await expire_unanswered(resources, datetime.now(UTC))
        if expired:
            logger.info("expired %d rental requests", len(expired))

    await background.repeat(sweep, interval=interval, stop=stop, logger=logger,
                            name="rental sweep")
