"""The exchange's sweep: auctions past their end close, offers past their time expire, unpaid
transactions past `pay_by` are cancelled, handed-over ones past `auto_complete_at` complete
(releasing the money). Each is a compare-and-swap UPDATE on the
row's status, so any number of exchange processes may sweep at once and each row moves once.

`sweep(resources, now)` is the one use case: the sidecar runs it every `SWEEP_INTERVAL`
(`run_forever`), tests call it with the `now` they need. Idempotency keys go with
`panamia purge`, whichever sidecars are installed."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from panamia.exchange import auctions, offers, transactions
from panamia.exchange.states import transactions as table
from panamia.resources import Resources
from panamia.sidecar import background

# Auctions end to the second the members watch; a sweep every 15 seconds closes them soon
# after, and a bid after the end is refused by its own UPDATE whether or not it has run.
SWEEP_INTERVAL = 15.0
BATCH_SIZE = 200
# Where money moves, one row per database transaction: several ledger entries in one would
# lock members' accounts in the order of the rows, and could deadlock with another sweep, or
# with a member's own entry, locking two of them the other way round.
MONEY_BATCH = 1
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    auctions_closed: int
    offers_expired: int
    unpaid_cancelled: int
    auto_completed: int

    def __bool__(self) -> bool:
        return any(vars(self).values())


async def sweep(resources: Resources, now: datetime) -> Swept:
    closed = await auctions.close_ended(resources, now, batch_size=MONEY_BATCH)
    expired = await offers.expire_due(resources, now, batch_size=BATCH_SIZE)
    cancelled = await transactions.sweep_batch(resources, "cancel_unpaid", table.c.pay_by <= now,
                                               now, BATCH_SIZE)
    completed = await transactions.sweep_batch(
        resources, "auto_complete", table.c.auto_complete_at <= now, now, MONEY_BATCH)
    return Swept(closed, expired, cancelled, completed)


async def run_forever(resources: Resources, *, interval: float = SWEEP_INTERVAL,
                      stop: asyncio.Event | None = None) -> None:
    """Sweep until `stop` is set or the task is cancelled; keeps going through outages."""

    async def sweep_now() -> None:
        swept = await sweep(resources, datetime.now(UTC))
        if swept:
            logger.info("exchange sweep: %s", swept)

    await background.repeat(sweep_now, interval=interval, stop=stop, logger=logger,
                            name="exchange sweep")
