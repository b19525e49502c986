"""Housekeeping: delete, in short batches, the rows that have served their purpose.

* sign-in links (verification tokens) past their expiry;
* sessions past their expiry, or signed in more than SESSION_ABSOLUTE_DAYS ago (a Next.js
  app sharing the table may slide a session's expiry beyond that);
* outbox events delivered more than `KEEP_DELIVERED` ago (kept that long for diagnosis);
* rate-limit windows that started more than `ratelimit.LONGEST_WINDOW` ago;
* idempotency keys past their 24 hours, of every sidecar, whichever are installed (the
  kit's one `idempotency_keys` table);
* the unsubscribe links of notification mails sent more than `KEEP_UNSUBSCRIBE_LINKS` ago;
* photo files that no photo names any more (`photos.service.sweep`: the photos of a deleted
  account, or a replaced photo whose files could not be deleted at once), in `run_forever`.

`purge(db, settings, now)` deletes every kind once, to the end. The main app runs it every
few minutes (`run_forever`), `panamia purge` once, for cron. Each batch is its own short
transaction and skips rows another transaction holds, so purges running in several replicas
at once share the work and never wait on a row a request is using.
"""

import asyncio
import logging
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, not_, select, tuple_

from panamia.db.postgres import Sessionmaker, create_engine, create_sessionmaker
from panamia.identity import ratelimit
from panamia.identity.dependencies import in_force
from panamia.identity.models import Session, VerificationToken
from panamia.notifications.models import UnsubscribeToken
from panamia.outbox.models import OutboxEvent
from panamia.photos import service as photo_service
from panamia.resources import Resources
from panamia.settings import Settings
from panamia.sidecar import idempotency

KEEP_DELIVERED = timedelta(days=7)
KEEP_UNSUBSCRIBE_LINKS = timedelta(days=365)
BATCH_SIZE = 1000
INTERVAL = 300.0  # seconds between purges of one service, give or take a quarter
logger = logging.getLogger(__name__)


def stale_rows(settings: Settings, now: datetime) -> dict[str, tuple[Table, ColumnElement[bool]]]:
    """What each kind deletes, by the name `panamia purge` reports."""
    tokens, sessions = VerificationToken.__table__, Session.__table__
    outbox, windows = OutboxEvent.__table__, ratelimit.windows
    unsubscribe_links = UnsubscribeToken.__table__
    return {
        "expired sign-in links": (tokens, tokens.c.expires < now),
        "ended sessions": (sessions, not_(in_force(now, settings))),
        "delivered outbox events": (outbox, outbox.c.delivered_at < now - KEEP_DELIVERED),
        "ended rate-limit windows": (
            windows, windows.c.window_start < now - ratelimit.LONGEST_WINDOW),
        "expired idempotency keys": (idempotency.keys, idempotency.expired(now)),
        "old unsubscribe links": (
            unsubscribe_links, unsubscribe_links.c.created_at < now - KEEP_UNSUBSCRIBE_LINKS),
    }


async def _delete_batch(db: Sessionmaker, table: Table, stale: ColumnElement[bool],
                        batch_size: int) -> int:
    key = list(table.primary_key.columns)
    batch = select(*key).where(stale).limit(batch_size).with_for_update(skip_locked=True)
    async with db.begin() as session:
        result = await session.execute(delete(table).where(tuple_(*key).in_(batch)))
    return result.rowcount


async def purge(db: Sessionmaker, settings: Settings, now: datetime, *,
                batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Delete every kind of stale row; how many of each were deleted."""
    deleted = {}
    for kind, (table, stale) in stale_rows(settings, now).items():
        deleted[kind] = 0
        while True:
            count = await _delete_batch(db, table, stale, batch_size)
            deleted[kind] += count
            if count < batch_size:
                break
    return deleted


async def purge_once(settings: Settings) -> dict[str, int]:
    """`panamia purge`: one purge on a connection of its own."""
    engine = create_engine(settings.postgres_url, "cli")
    try:
        return await purge(create_sessionmaker(engine), settings, datetime.now(UTC))
    finally:
        await engine.dispose()


async def run_forever(resources: Resources, *, interval: float | None = None,
                      stop: asyncio.Event | None = None) -> None:
    """Purge every `interval` seconds (default `INTERVAL`), each wait up to a quarter longer
    or shorter so that replicas started together drift apart; an outage costs a warning."""
    interval = interval or INTERVAL
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval * random.uniform(0.75, 1.25))
            return
        except TimeoutError:
            pass
        try:
            now = datetime.now(UTC)
            deleted = await purge(resources.db, resources.settings, now)
            deleted["unused photo files"] = await photo_service.sweep(resources, now)
        except Exception as exc:  # noqa: BLE001 - the next round retries
            logger.warning("purge failed (%s); retrying in about %gs", type(exc).__name__,
                           interval)
            continue
        if any(deleted.values()):
            logger.info("purged %s", ", ".join(f"{n} {kind}" for kind, n in deleted.items()))
