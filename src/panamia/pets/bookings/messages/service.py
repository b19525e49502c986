"""Messages between a booking's owner and its sitter, and no one else: to anyone else,
admins included, a thread does not exist (404).

A thread takes messages while its booking is pending or confirmed, and after a completed
stay until 30 days after the check-out day (in the listing's time zone); a declined,
cancelled or expired booking's thread stays readable but takes none (409). Each message
tells the other party through the outbox, in the message's own transaction, and counts
towards its author's limit of 20 messages per 10 minutes, across all their threads (429).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id
from panamia.errors import Conflict, Invalid, NotFound
from panamia.identity import ratelimit
from panamia.identity.dependencies import Principal
from panamia.notifications.schemas import ActivityObject
from panamia.pets.bookings.messages import queries
from panamia.pets.bookings.messages.models import MAX_LENGTH
from panamia.pets.bookings.messages.schemas import MessageCreate, MessagePage, MessageView
from panamia.pets.bookings.service import local_today
from panamia.pets.models import ACTIVE_STATUSES
from panamia.resources import Resources
from panamia.sidecar import idempotency
from panamia.sidecar.notices import tell_other_party
from panamia.sidecar.pages import long_date

IDEMPOTENCY_SCOPE = "pets.booking_messages"
LIMIT = ratelimit.Limit(allowed=20, per=timedelta(minutes=10))
TOO_MANY = f"You have sent {LIMIT.allowed} messages in the last few minutes."
OPEN_AFTER_STAY = timedelta(days=30)
SUMMARY_LENGTH = 140
MAX_PAGE_SIZE = 100
NOT_VISIBLE = "No booking with this id is visible to you."


@dataclass(frozen=True)
class Thread:
    """A booking's latest messages, newest last, and why it takes no more (None if it does)."""

    booking: Row
    messages: list[MessageView]
    closed: str | None


def cleaned(body: MessageCreate) -> str:
    """The body as typed, without the blank space around it (control characters are gone
    already); 422 when nothing is left or it is too long."""
    text = body.body.strip()
    if not text:
        raise Invalid("Write something before sending: this message is empty.",
                      fields=["body"])
    if len(text) > MAX_LENGTH:
        raise Invalid(f"A message can have up to {MAX_LENGTH:,} characters; this one has "
                      f"{len(text):,}. Shorten it, or send it in two.", fields=["body"])
    return text


def closed_because(booking: Row, now: datetime) -> str | None:
    """Why the thread takes no new message, in the member's words; None while it does."""
    if booking.status in ACTIVE_STATUSES:
        return None
    if booking.status != "completed":
        return (f"This booking was {booking.status}, so its messages are closed: you can "
                "still read them.")
    if local_today(booking.timezone, now) < booking.end_date + OPEN_AFTER_STAY:
        return None
    return (f"Messages close {OPEN_AFTER_STAY.days} days after the stay; this one ended on "
            f"{long_date(booking.end_date)}.")


async def _party_booking(session: AsyncSession, user: Principal, booking_id: str) -> Row:
    booking = await queries.booking(session, booking_id)
    if booking is None or user.id not in (booking.owner_id, booking.sitter_id):
        raise NotFound(NOT_VISIBLE)
    return booking


def view(row: Row) -> MessageView:
    return MessageView.model_validate(row._asdict())


def thread_url(resources: Resources, booking_id: str) -> str:
    return f"{resources.settings.pets_url}/bookings/{booking_id}#messages"


async def post_message(
    resources: Resources, user: Principal, booking_id: str, body: MessageCreate,
    key: str | None = None, now: datetime | None = None,
) -> idempotency.Answer:
    """Add a message to the thread and tell the other party: 201; or 404, 409 (closed), 422
    (empty or too long) or 429 (too many). With an idempotency key, the 201 or 409 is kept
    with the key; a 422 or 429 is not, so the same key may be sent again later."""
    now = now or datetime.now(UTC)
    text = cleaned(body)
    claim = None if key is None else idempotency.Key(
        user.id, IDEMPOTENCY_SCOPE, key,
        idempotency.fingerprint(f"POST /bookings/{booking_id}/messages", {"body": text}),
    )
    async with resources.db.begin() as session:
        if claim and (stored := await idempotency.claim(session, claim, now)):
            return stored
        booking = await _party_booking(session, user, booking_id)

        async def attempt() -> idempotency.Answer:
            if reason := closed_because(booking, now):
                raise Conflict(reason)
            await ratelimit.hit(session, f"pets.messages:{user.id}", LIMIT, now,
                                refusal=TOO_MANY)
            message = view(await queries.insert_message(session, {
                "id": new_id(), "booking_id": booking.id, "author_id": user.id, "body": text,
                # The request's clock, not the transaction's: a thread reads in the order
                # people wrote, even for messages written in one transaction.
                "created_at": now,
            }))
            await tell_other_party(
                session, "Create", actor_id=user.id,
                parties=(booking.owner_id, booking.sitter_id),
                about=ActivityObject(type="Message", id=message.id,
                                     url=thread_url(resources, booking.id),
                                     summary=text[:SUMMARY_LENGTH]),
            )
            return idempotency.Answer(201, message.model_dump(mode="json", by_alias=True))

        return await idempotency.kept(session, claim, attempt)


async def list_messages(resources: Resources, user: Principal, booking_id: str, *, page: int,
                        page_size: int) -> MessagePage:
    async with resources.reads() as session:
        await _party_booking(session, user, booking_id)
        rows = await queries.page(session, booking_id, offset=(page - 1) * page_size,
                                  limit=page_size + 1)
    return MessagePage(items=[view(r) for r in rows[:page_size]],
                       page=page, page_size=page_size, has_more=len(rows) > page_size)


async def thread(resources: Resources, user: Principal, booking_id: str, *, latest: int,
                 now: datetime | None = None) -> Thread:
    """The booking page's thread: its `latest` messages, newest last."""
    async with resources.reads() as session:
        booking = await _party_booking(session, user, booking_id)
        rows = await queries.page(session, booking_id, offset=0, limit=latest,
                                  newest_first=True)
    return Thread(booking=booking, messages=[view(r) for r in rows[::-1]],
                  closed=closed_because(booking, now or datetime.now(UTC)))
