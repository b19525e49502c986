"""Booking use cases. Each runs in one transaction and leaves its notification in the outbox
of that same transaction.

Double booking is the database's to refuse (the exclusion constraint `ex_bookings_no_overlap`):
a request is inserted, never checked first, and what the constraint turns away becomes 409.
Transitions are one conditional UPDATE each, taken through the declaration in `states`; when
it changes nothing, a second look at the booking explains why (404, 403 or 409 naming its
status).
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from panamia.db.driver import Statements, read_first, transaction
from panamia.db.postgres import new_id
from panamia.errors import Conflict, Invalid, NotFound
from panamia.identity.dependencies import Principal
from panamia.pets.bookings import notices, queries
from panamia.pets.models import MAX_NIGHTS
from panamia.pets.bookings.schemas import (
    BookingDetail,
    BookingListItem,
    BookingPage,
    BookingRequest,
    BookingView,
)
from panamia.pets.bookings.states import BOOKINGS, Status
from panamia.resources import Resources
from panamia.sidecar import idempotency, reservations

TAKEN = "Another booking holds some of these nights (check-out days are free); choose other dates."
ALREADY_ASKED = "already asked"
MAX_PAGE_SIZE = 100
IDEMPOTENCY_SCOPE = "pets.bookings"


def view(row: Row, model: type[BookingView] = BookingView) -> BookingView:
    values = row._asdict()
    values["nights"] = (row.end_date - row.start_date).days
    return model.model_validate(values)


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def words(species) -> str:
    return ", ".join(kind.replace("_", " ") for kind in species)


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
        raise Invalid("The check-out day must come after the first night: one night ends "
                      "the next day.", fields=["endDate"])
    if nights > MAX_NIGHTS:
        raise Invalid(f"A booking lasts at most {MAX_NIGHTS} nights; this one has {nights}.",
                      fields=["endDate"])
    today = local_today(listing.timezone, now)
    if body.start_date < today:
        raise Invalid(f"The first night has passed: it is already {today:%a %-d %b} where the "
                      "sitter is. Choose today or a later day.", fields=["startDate"])
    if len(body.pets) > listing.max_pets:
        raise Invalid(f"This sitter takes at most {listing.max_pets} pet(s) at a time.",
                      fields=["pets"])
    refused = sorted({p.species for p in body.pets} - set(listing.species))
    if refused:
        raise Invalid(f"This sitter does not take {words(refused)}; only "
                      f"{words(listing.species)}.", fields=["pets"])


def already_asked(own: Row) -> Conflict:
    """The 409 when the nights are held by the person's own request or booking."""
    held = ("request is waiting for the sitter's answer" if own.status == Status.PENDING
            else "booking is confirmed")
    return Conflict(f"You already asked for some of these nights: your {held} "
                    f"({own.start_date:%a %-d %b} to {own.end_date:%a %-d %b}). See it in "
                    "My bookings.", error=ALREADY_ASKED)


async def _insert(run: Statements, user: Principal, body: BookingRequest, listing: Row):
    nights = (body.end_date - body.start_date).days
    booking_id = new_id()
    values: dict[str, Any] = {
        "id": booking_id, "listing_id": listing.id, "owner_id": user.id,
        "sitter_id": listing.sitter_id, "start_date": body.start_date,
        "end_date": body.end_date, "status": Status.PENDING.value,
        "total_price": Decimal(nights) * listing.price_per_day, "currency": listing.currency,
        "pets": [p.model_dump(mode="json") for p in body.pets], "note": body.note,
    }
    notice = notices.request_activity(booking_id, user.id, listing.sitter_id, body.start_date,
                                      body.end_date, listing.title)
    row = await queries.insert_booking(run, values,
                                       notice.model_dump(mode="json", by_alias=True))
    if row is None:
        own = await run.first(queries.OWN_ACTIVE, listing_id=listing.id, owner_id=user.id,
                              start_date=body.start_date, end_date=body.end_date)
        if own is not None:
            raise already_asked(own)
        raise reservations.refused(queries.OVERLAP, TAKEN)
    if row.away_from is not None:
        raise Conflict(f"The sitter is away from {row.away_from} to {row.away_until} "
                       "(check-out day free); choose other dates.")
    return row


async def request_booking(
    resources: Resources, user: Principal, body: BookingRequest, key: str | None = None,
    now: datetime | None = None,
) -> idempotency.Answer:
    """A pending request for the listing's nights, with its notice to the sitter; 201, or 409
    when they are taken or the sitter is away. Round trips: the listing read (with its lock),
    the insert with its notice, and the transaction's BEGIN and COMMIT.

    With an idempotency key, the 201 or 409 is kept with the key (see the kit's
    `idempotency`); a 422 is not, so a corrected request may reuse it.
    """
    now = now or datetime.now(UTC)
    claim = None if key is None else idempotency.Key(
        user.id, IDEMPOTENCY_SCOPE, key,
        idempotency.fingerprint("POST /bookings", body.model_dump(mode="json")),
    )
    # The kit keeps a key through a session; without one, the statements go to the driver.
    async with transaction(resources.db, session=claim is not None) as run:
        if claim and (stored := await idempotency.claim(run.session, claim, now)):
            return stored
        listing = await queries.lock_listing(run, body.listing_id)
        check_request(listing, user, body, now)

        async def attempt() -> idempotency.Answer:
            booking = view(await _insert(run, user, body, listing))
            return idempotency.Answer(201, booking.model_dump(mode="json", by_alias=True))

        return await idempotency.kept(run.session, claim, attempt)


async def transition(
    resources: Resources, user: Principal, booking_id: str, name: str,
    now: datetime | None = None,
) -> BookingView:
    """confirm, decline, cancel or complete: one conditional UPDATE. A step racing another on
    the same booking re-checks its WHERE against what the other committed, so two steps from
    the same status never both happen."""
    now = now or datetime.now(UTC)
    async with resources.db.begin() as session:
        try:
            row = await BOOKINGS.take(session, name, booking_id, user, now,
                                      returning=[*queries.VIEW, queries.LISTING_TITLE])
        except IntegrityError as exc:
            # Only a transition back to pending or confirmed can meet this; none does today.
            conflict = reservations.conflict_from(exc, queries.OVERLAP, TAKEN)
            if conflict is None:
                raise
            raise conflict from None
        booking = view(row)
        await notices.transitioned(session, BOOKINGS.transitions[name], booking,
                                   row.listing_title, user.id)
    return booking


async def get_booking(resources: Resources, user: Principal, booking_id: str) -> BookingDetail:
    """Its two parties and admins see a booking; anyone else gets 404, as if it did not exist."""
    async with resources.reads() as session:
        row = await queries.find(session, booking_id)
    if row is None or not BOOKINGS.visible(user, row):
        raise NotFound("No booking with this id is visible to you.")
    return view(row, BookingDetail)


async def own_booking_over(resources: Resources, user: Principal, listing_id: str,
                           start: date, end: date) -> BookingView | None:
    """The person's own pending or confirmed booking of the listing sharing a night with
    `start` to `end`, if any."""
    row = await read_first(resources.reads, queries.OWN_ACTIVE, listing_id=listing_id,
                           owner_id=user.id, start_date=start, end_date=end)
    return None if row is None else view(row)


async def sitter_agenda(resources: Resources, user: Principal, *, ending_from: date,
                        limit: int) -> list[BookingListItem]:
    """Requests waiting for the sitter's answer, and confirmed stays not over before
    `ending_from`, soonest first."""
    async with resources.reads() as session:
        rows = await queries.agenda(session, user.id, ending_from=ending_from, limit=limit)
    return [view(row, BookingListItem) for row in rows]


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
