"""Writing events (in the caller's transaction) and reading the backlog."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia import requestids
from panamia.db.postgres import new_id
from panamia.outbox.models import OutboxEvent
from panamia.resources import Resources
from panamia.schemas import Schema

NOTIFICATION_CREATE = "notification.create"
USER_DELETED = "user.deleted"


@dataclass(frozen=True)
class Event:
    """A claimed event, as the relay hands it to a topic's handler."""

    id: str
    topic: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    request_id: str | None = None


async def enqueue(session: AsyncSession, topic: str, payload: dict[str, Any]) -> str:
    """Record an event in the caller's transaction: it exists if and only if the change commits.
    It carries the id of the request being served, if any."""
    event_id = new_id()
    await session.execute(insert(OutboxEvent).values(
        id=event_id, topic=topic, payload=payload, request_id=requestids.current(),
    ))
    return event_id


class OldestEvent(Schema):
    """The undelivered event waiting longest, as `panamia outbox status` and `panamia doctor`
    report it."""

    id: str
    topic: str
    created_at: datetime
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


@dataclass(frozen=True)
class Backlog:
    undelivered: int
    failing: int
    by_topic: dict[str, int]
    oldest: OldestEvent | None
    # What other queues riding the relay's process report, by name (see `reports_also`).
    others: dict[str, dict[str, Any]] = field(default_factory=dict)


StatusSection = Callable[[AsyncSession], Awaitable[dict[str, Any]]]
# Queues of their own that the relay's process also works through (federation deliveries):
# their owners register a summary here, shown by `panamia outbox status`.
STATUS_SECTIONS: dict[str, StatusSection] = {}


def reports_also(name: str, section: StatusSection) -> None:
    STATUS_SECTIONS[name] = section


UNDELIVERED = OutboxEvent.delivered_at.is_(None)


async def backlog(session: AsyncSession) -> Backlog:
    by_topic = dict((await session.execute(
        select(OutboxEvent.topic, func.count()).where(UNDELIVERED)
        .group_by(OutboxEvent.topic).order_by(OutboxEvent.topic)
    )).all())
    failing = (await session.execute(
        select(func.count()).where(UNDELIVERED, OutboxEvent.attempts > 0)
    )).scalar_one()
    return Backlog(
        undelivered=sum(by_topic.values()), failing=failing, by_topic=by_topic,
        oldest=await oldest_undelivered(session),
        others={name: await section(session) for name, section in STATUS_SECTIONS.items()},
    )


async def backlog_metrics(resources: Resources) -> list[GaugeMetricFamily]:
    """The backlog as /metrics shows it, read at each scrape: the same from every process."""
    async with resources.reads() as session:
        found = await backlog(session)
    age = 0.0
    if found.oldest is not None:
        age = max((datetime.now(UTC) - found.oldest.created_at).total_seconds(), 0.0)
    return [
        GaugeMetricFamily("panamia_outbox_undelivered", "Outbox events not delivered yet",
                          value=found.undelivered),
        GaugeMetricFamily("panamia_outbox_failing",
                          "Undelivered outbox events that failed at least once",
                          value=found.failing),
        GaugeMetricFamily("panamia_outbox_oldest_undelivered_age_seconds",
                          "Age of the oldest undelivered outbox event, 0 when there is none",
                          value=age),
    ]


async def oldest_undelivered(
    session: AsyncSession, created_before: datetime | None = None
) -> OldestEvent | None:
    query = select(
        OutboxEvent.id, OutboxEvent.topic, OutboxEvent.created_at, OutboxEvent.attempts,
        OutboxEvent.last_error, OutboxEvent.next_attempt_at,
    ).where(UNDELIVERED).order_by(OutboxEvent.created_at, OutboxEvent.id).limit(1)
    if created_before is not None:
        query = query.where(OutboxEvent.created_at < created_before)
    row = (await session.execute(query)).first()
    return OldestEvent(**row._mapping) if row else None


async def count_undelivered(session: AsyncSession, created_before: datetime) -> int:
    return (await session.execute(
        select(func.count()).where(UNDELIVERED, OutboxEvent.created_at < created_before)
    )).scalar_one()


async def pending_user_deletions(session: AsyncSession, user_ids: list[str]) -> set[str]:
    """Which of these users have a `user.deleted` event still waiting to be relayed."""
    user_id = OutboxEvent.payload["userId"].astext
    rows = await session.execute(
        select(user_id).where(UNDELIVERED, OutboxEvent.topic == USER_DELETED,
                              user_id.in_(user_ids))
    )
    return set(rows.scalars())
