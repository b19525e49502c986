"""Booking use cases. Each runs in one transaction and leaves its notification in the outbox
of that same transaction.

Double booking is the database's to refuse (the exclusion constraint `ex_bookings_no_overlap`):
a request is inserted, never checked first, and what the constraint turns away becomes 409.
Transitions are one conditional UPDATE each (`queries.transition`); when it changes nothing,
a second look at the booking explains why (404, 403 or 409 naming its status).
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id
from panamia.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from panamia.identity.dependencies import Principal
from panamia.pets.bookings import idempotency, notices, queries
from panamia.pets.bookings.models import MAX_NIGHTS
from panamia.pets.bookings.schemas import (
    BookingDetail,
    BookingListItem,
    BookingPage,
    BookingRequest,
    BookingView,
)
from panamia.pets.bookings.states import TRANSITIONS, Status, Transition
from panamia.resources import Resources

TAKEN = "Another booking holds some of these nights (check-out days are free); choose other dates."
MAX_PAGE_SIZE = 100


def view(row: Row, model: type[BookingView] = BookingView) -> BookingView:
    values = row._asdict()
    values["nights"] = (row.end_date - row.start_date).days
    return model.model_validate(values)


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def check_request(listing: Row | None, user: Principal, body: BookingRequest, now: datetime):
    """What needs the listing's data: each refusal names the field at fault (422)."""
    if listing is None:
        raise Invalid("No listing has this id.", fields=["listingId"])
    if listing.sitter_id == user.id:
        raise Invalid("You cannot book your own listing.", fields=["listingId"])
    if not listing.available:
        raise Invalid("This listing is not taking bookings.", fields=["listingId"])
    nights = (body.end_date - body.start_date).days
    if nights < 1:
        raise Invalid("endDate must come after startDate: nights are [startDate, endDate), so "
                      "one night ends the next day.", fields=["endDate"])
    if nights > MAX_NIGHTS:
        raise Invalid(f"A booking lasts at most {MAX_NIGHTS} nights; this one has {nights}.",
                      fields=["endDate"])
    today = local_today(listing.timezone, now)
    if body.start_date < today:
        raise Invalid(f"startDate is in the past: it is already {today} where the sitter is "
                      f"({listing.timezone}).", fields=["startDate"])
    if len(body.pets) > listing.max_pets:
        raise Invalid(f"This sitter takes at most {listing.max_pets} pet(s) at a time.",
                      fields=["pets"])
    refused = sorted({p.species for p in body.pets} - set(listing.species))
    if refused:
        raise Invalid(f"This sitter does not take {', '.join(refused)}; only "
                      f"{', '.join(listing.species)}.", fields=["pets"])


async def _insert(session: AsyncSession, user: Principal, body: BookingRequest, listing: Row):
    nights = (body.end_date - body.start_date).days
    values: dict[str, Any] = {
        "id": new_id(), "listing_id": listing.id, "owner_id": user.id,
        "sitter_id": listing.sitter_id, "start_date": body.start_date,
        "end_date": body.end_date, "status": Status.PENDING.value,
        "total_price": Decimal(nights) * listing.price_per_day, "currency": listing.currency,
        "pets": [p.model_dump(mode="json") for p in body.pets], "note": body.note,
    }
    try:
        row = await queries.insert_booking(session, values)
    except IntegrityError as exc:
        if queries.sqlstate(exc) == "23503":  # the listing was deleted meanwhile
            raise Invalid("No listing has this id.", fields=["listingId"]) from None
        raise
    if row is None:
        raise Conflict(TAKEN)
    # The insert holds FOR KEY SHARE on the listing (through the foreign key) until commit,
    # and adding a blackout takes FOR UPDATE on it before checking bookings: whichever comes
    # second waits for the other and then sees it.
    blackout = await queries.blackout_over(session, listing.id, body.start_date, body.end_date)
    if blackout is not None:
        raise Conflict(f"The sitter is away from {blackout.start_date} to {blackout.end_date} "
                       "(check-out day free); choose other dates.")
    return row


async def request_booking(
    resources: Resources, user: Principal, body: BookingRequest, key: str | None = None,
    now: datetime | None = None,
) -> idempotency.Answer:
    """A pending request for the listing's nights; 201, or 409 when they are taken.

    With an idempotency key, the 201 or 409 is kept with the key (see `idempotency`); the
    attempt then runs in a savepoint so that a 409 can roll back the booking but keep the
    key and its answer.
    """
    now = now or datetime.now(UTC)
    async with resources.db.begin() as session:
        if key is not None:
            request_hash = idempotency.fingerprint("POST /bookings", body.model_dump(mode="json"))
            stored = await idempotency.claim(session, user.id, key, request_hash, now)
            if stored is not None:
                return stored
        listing = await queries.listing_for_booking(session, body.listing_id)
        check_request(listing, user, body, now)
        if key is None:
            row = await _insert(session, user, body, listing)
        else:
            try:
                async with session.begin_nested():
                    row = await _insert(session, user, body, listing)
            except Conflict as exc:
                answer = idempotency.Answer(exc.status, exc.body())
                await idempotency.record(session, user.id, key, answer)
                return answer
        booking = view(row)
        await notices.requested(session, booking, listing.title)
        answer = idempotency.Answer(201, booking.model_dump(mode="json", by_alias=True))
        if key is not None:
            await idempotency.record(session, user.id, key, answer)
    return answer


def _may(step: Transition, user: Principal, booking: Row) -> bool:
    if step.actor == "sitter":
        return user.id == booking.sitter_id
    if step.actor == "owner":
        return user.id == booking.owner_id
    return user.id in (booking.owner_id, booking.sitter_id)


def _refusal(step: Transition, user: Principal, booking: Row | None) -> DomainError:
    """Why the conditional UPDATE changed nothing, read after it (so after any racer's commit)."""
    if booking is None or not _visible(user, booking):
        return NotFound("No booking with this id is visible to you.")
    if not _may(step, user, booking):
        who = {"sitter": "the sitter", "owner": "the owner"}.get(step.actor, "its owner or sitter")
        return Forbidden(f"Only {who} may {step.name} this booking.")
    status = booking.status
    allowed = " or ".join(s.value for s in sorted(step.sources))
    if status not in step.sources:
        return Conflict(f"The booking is {status}; only a {allowed} booking can be "
                        f"{step.target.value}.")
    if step.timing == "before_start":
        return Conflict(f"The booking is {status} and its stay began on {booking.start_date}; "
                        "it can be cancelled only before its start date.")
    if step.timing == "from_end":
        return Conflict(f"The booking is {status} and its stay ends on {booking.end_date}; it "
                        "can be completed from that day on.")
    if step.timing == "unexpired":
        return Conflict(f"The booking is {status} but went unanswered for 48 hours and has "
                        "expired; the owner can request it again.")
    return Conflict(f"The booking is {status}.")


def _visible(user: Principal, booking: Row) -> bool:
    return user.is_admin or user.id in (booking.owner_id, booking.sitter_id)


async def transition(
    resources: Resources, user: Principal, booking_id: str, name: str,
    now: datetime | None = None,
) -> BookingView:
    """confirm, decline, cancel or complete: one conditional UPDATE. A step racing another on
    the same booking re-checks its WHERE against what the other committed, so two steps from
    the same status never both happen."""
    step = TRANSITIONS[name]
    now = now or datetime.now(UTC)
    async with resources.db.begin() as session:
        try:
            row = await queries.transition(session, booking_id, step, user.id, now)
        except IntegrityError as exc:
            # Only a transition back to pending or confirmed can meet this; none does today.
            if queries.is_overlap(exc):
                raise Conflict(TAKEN) from None
            raise
        if row is None:
            raise _refusal(step, user, await queries.find(session, booking_id))
        booking = view(row)
        await notices.transitioned(session, step, booking, row.listing_title, user.id)
    return booking


async def get_booking(resources: Resources, user: Principal, booking_id: str) -> BookingDetail:
    """Its two parties and admins see a booking; anyone else gets 404, as if it did not exist."""
    async with resources.reads() as session:
        row = await queries.find(session, booking_id)
    if row is None or not _visible(user, row):
        raise NotFound("No booking with this id is visible to you.")
    return view(row, BookingDetail)


async def list_bookings(
    resources: Resources, user: Principal, *, role: str | None, status: Status | None,
    page: int, page_size: int,
) -> BookingPage:
    async with resources.reads() as session:
        rows = await queries.page(
            session, user.id, role=role, status=status.value if status else None,
            offset=(page - 1) * page_size, limit=page_size + 1,
        )
    return BookingPage(
        items=[view(r, BookingListItem) for r in rows[:page_size]],
        page=page, page_size=page_size, has_more=len(rows) > page_size,
    )
