"""Outgoing activities: written as `deliveries` rows in the caller's transaction (one per
inbox, a shared inbox once), then sent by `run_forever` (in the outbox relay's process):
claimed with FOR UPDATE SKIP LOCKED, signed afresh on each try, sent in parallel with a
bound, retried with exponential backoff, given up after three days.

A 2xx delivers; a 410 means the actor is gone (no more deliveries to it); any other 4xx
but 429 is final; 429, 5xx and network failures are retried."""

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.federation import fetch, keys, signatures, urls
from panamia.federation.models import (
    DELIVERED,
    FAILED,
    GIVEN_UP,
    INSTANCE,
    PENDING,
    Delivery,
    RemoteActor,
)
from panamia.resources import Resources

BATCH_SIZE = 50
PARALLEL = 10
INTERVAL = 1.0
LEASE = timedelta(minutes=2)  # a claimed row is not claimed again while it is being sent
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(days=3)

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … at most 6 hours, after the `attempts`-th failure."""
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)


def serialize(activity: dict[str, Any]) -> str:
    """The exact text sent, and hashed for the Digest, on every try."""
    return json.dumps(activity, separators=(",", ":"), ensure_ascii=False)


async def enqueue(session: AsyncSession, activity: dict[str, Any], signer_id: str,
                  inboxes: list[str]) -> int:
    """Queue `activity`, signed by the local actor `signer_id`, to each inbox once."""
    targets = list(dict.fromkeys(inboxes))
    if not targets:
        return 0
    body = serialize(activity)
    await session.execute(insert(Delivery).values([
        {"activity_id": activity["id"], "inbox": inbox, "domain": urls.domain_of(inbox),
         "signer_id": signer_id, "body": body}
        for inbox in targets
    ]).on_conflict_do_nothing(index_elements=[Delivery.activity_id, Delivery.inbox]))
    return len(targets)


@dataclass(frozen=True)
class Claimed:
    id: str
    inbox: str
    signer_id: str
    body: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str | None


async def _claim(resources: Resources, batch_size: int) -> list[Claimed]:
    async with resources.db.begin() as session:
        rows = (await session.execute(
            select(Delivery.id, Delivery.inbox, Delivery.signer_id, Delivery.body,
                   Delivery.attempts, Delivery.created_at)
            .where(Delivery.state == PENDING, Delivery.next_attempt_at <= func.now())
            .order_by(Delivery.next_attempt_at).limit(batch_size)
            .with_for_update(skip_locked=True)
        )).all()
        if rows:
            await session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows]))
                                  .values(next_attempt_at=func.now() + LEASE))
    return [Claimed(*row) for row in rows]


async def _send(resources: Resources, claimed: Claimed, limit: asyncio.Semaphore) -> Outcome:
    secret = resources.settings.secret
    async with resources.reads() as session:
        key = await keys.find_key(session, claimed.signer_id)
    settings = resources.settings
    key_id = urls.key_id(urls.instance(settings) if claimed.signer_id == INSTANCE
                         else urls.actor(settings, claimed.signer_id))
    body = claimed.body.encode()

    def sign(method: str, url: str, content: bytes | None) -> dict[str, str]:
        return signatures.sign_request(method, url, key_id, key.private_key(secret), content)

    async with limit:
        try:
            answer = await fetch.send(resources.settings, "POST", claimed.inbox, body=body,
                                      signer=sign, max_bytes=64 * 1024,
                                      follow_redirects=False)
        except (fetch.FetchRefused, fetch.FetchFailed) as exc:
            return Outcome(None, str(exc)[:1000])
    error = None if 200 <= answer.status < 300 else answer.body[:500].decode("utf-8", "replace")
    return Outcome(answer.status, error)


def _next_state(claimed: Claimed, outcome: Outcome, now: datetime) -> str:
    status = outcome.status
    if status is not None and 200 <= status < 300:
        return DELIVERED
    if status == 410:
        return GIVEN_UP
    if status is not None and 400 <= status < 500 and status != 429:
        return FAILED
    if now - claimed.created_at + backoff(claimed.attempts + 1) > GIVE_UP_AFTER:
        return GIVEN_UP
    return PENDING


async def _record(resources: Resources, claimed: Claimed, outcome: Outcome) -> None:
    now = datetime.now(UTC)
    state = _next_state(claimed, outcome, now)
    attempts = claimed.attempts + 1
    async with resources.db.begin() as session:
        await session.execute(update(Delivery).where(Delivery.id == claimed.id).values(
            state=state, attempts=attempts, last_status=outcome.status,
            last_error=outcome.error,
            next_attempt_at=now + backoff(attempts) if state == PENDING else now,
            finished_at=None if state == PENDING else now,
        ))
        if outcome.status == 410:
            await session.execute(
                update(RemoteActor).where(RemoteActor.inbox == claimed.inbox,
                                          RemoteActor.gone_at.is_(None)).values(gone_at=now))
    if state != DELIVERED:
        logger.warning("delivery %s to %s: %s (%s), attempt %d", claimed.id, claimed.inbox,
                       outcome.status or "no answer", state, attempts)


async def deliver_once(resources: Resources, *, batch_size: int = BATCH_SIZE,
                       parallel: int = PARALLEL) -> int:
    """Send what is due now; returns how many were tried."""
    claimed = await _claim(resources, batch_size)
    limit = asyncio.Semaphore(parallel)

    async def one(row: Claimed) -> None:
        await _record(resources, row, await _send(resources, row, limit))

    await asyncio.gather(*(one(row) for row in claimed))
    return len(claimed)


async def run_forever(resources: Resources, *, stop: asyncio.Event | None = None,
                      interval: float = INTERVAL) -> None:
    """Deliver until `stop` is set; each round ends once its sends are recorded."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            tried = await deliver_once(resources)
        except Exception:  # noqa: BLE001 - keep delivering once the database is back
            logger.exception("federation deliveries could not run a round")
            tried = 0
        if tried:
            continue
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


async def status(session: AsyncSession) -> dict[str, Any]:
    """Deliveries not delivered, by state and by domain, for `panamia outbox status`."""
    rows = (await session.execute(
        select(Delivery.domain, Delivery.state, func.count())
        .where(Delivery.state != DELIVERED)
        .group_by(Delivery.domain, Delivery.state).order_by(Delivery.domain)
    )).all()
    totals = {PENDING: 0, FAILED: 0, GIVEN_UP: 0}
    by_domain: dict[str, dict[str, int]] = {}
    for domain, state, count in rows:
        totals[state] += count
        by_domain.setdefault(domain, {})[state] = count
    return {**totals, "by domain": by_domain}
