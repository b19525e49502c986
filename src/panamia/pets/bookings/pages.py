"""My bookings, as owner and as sitter, with a button for each step the declared transitions
allow; and the review form for a completed stay."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import Path, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Conflict, Forbidden
from panamia.identity.dependencies import CurrentUser, Principal
from panamia.pets.bookings import service as bookings_service
from panamia.pets.bookings.schemas import ID_PATTERN, BookingListItem
from panamia.pets.bookings.states import PENDING_FOR, TRANSITIONS, Status, Transition
from panamia.pets.listings import service as listings_service
from panamia.pets.reviews import service as reviews_service
from panamia.pets.reviews.schemas import ReviewCreate
from panamia.profiles import service as profiles_service
from panamia.sidecar.pages import HELPERS, page_router

router = page_router()
BookingId = Path(pattern=ID_PATTERN)
PAGE_SIZE = 50
BUTTONS = {"confirm": "Confirm", "decline": "Decline…", "cancel": "Cancel booking…",
           "complete": "Mark as completed"}
# Steps that undo something for the other person: each asks first, on a page of its own.
ASKED_FIRST = ("decline", "cancel")
WHAT_IT_DOES = {
    "decline": "Declining says no to this request: the owner is told, and the nights are "
               "free again.",
    "cancel": "Cancelling calls off a booking: the other person is told, and the nights are "
              "free again.",
}
DONE = {"confirm": "Booking confirmed. The owner is told.",
        "decline": "Request declined; those nights are free again.",
        "cancel": "Booking cancelled; those nights are free again.",
        "complete": "Stay marked as completed. The owner can now review it."}
PERSON_STEPS = [t for t in TRANSITIONS.values() if t.actor != "system"]


def allowed(step: Transition, booking: BookingListItem, role: str, timezone: str,
            now: datetime) -> bool:
    """Whether `step` would be accepted now, read from its declaration: who, from which
    status, and when (in the listing's time zone). The service decides again on submit."""
    if booking.status not in step.sources or step.actor not in (role, "party"):
        return False
    today = bookings_service.local_today(timezone, now)
    if step.timing == "before_start":
        return today < booking.start_date
    if step.timing == "from_end":
        return today >= booking.end_date
    if step.timing == "unexpired":
        return now - booking.created_at < PENDING_FOR
    return True


def moment(when: datetime, timezone: str) -> str:
    """`Tue 8 Dec, 3:00 PM`, in `timezone`."""
    local = when.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b}, {local:%I:%M %p}".replace(", 0", ", ")


@dataclass(frozen=True)
class Row:
    booking: BookingListItem
    title: str
    steps: list[str]
    can_review: bool
    answer_by: str | None  # a pending request's deadline, for its sitter


async def rows_of(request: Request, items: list[BookingListItem], role: str) -> list[Row]:
    """A page's rows for these bookings of one role: their listings' titles, the steps the
    person may take, and whether they may review the stay."""
    res = pages.resources_of(request)
    listings = await listings_service.listings_by_id(res, {b.listing_id for b in items})
    completed = {b.id for b in items if b.status == Status.COMPLETED}
    reviewed = await reviews_service.reviewed(res, completed) if role == "owner" else set()
    now = datetime.now(UTC)
    rows = []
    for booking in items:
        listing = listings.get(booking.listing_id)
        timezone = listing.timezone if listing else "UTC"
        waiting = role == "sitter" and booking.status == Status.PENDING
        rows.append(Row(
            booking=booking, title=listing.title if listing else "A listing",
            steps=[s.name for s in PERSON_STEPS if allowed(s, booking, role, timezone, now)],
            can_review=role == "owner" and booking.id in completed - reviewed,
            answer_by=moment(booking.created_at + PENDING_FOR, timezone) if waiting else None,
        ))
    return rows


async def public_of(request: Request, user_ids) -> set[str]:
    """Which of these people have a public profile, so that their names may link to it."""
    return await profiles_service.with_public_profile(pages.resources_of(request), user_ids)


async def bookings_page(request: Request, user: Principal, *, status: int = 200,
                        error: str | None = None):
    res = pages.resources_of(request)
    found = {role: await bookings_service.list_bookings(res, user, role=role, status=None,
                                                        page=1, page_size=PAGE_SIZE)
             for role in ("owner", "sitter")}
    others = [b.sitter_id for b in found["owner"].items] + [
        b.owner_id for b in found["sitter"].items]
    return await pages.render(
        request, "pets/bookings.html", status=status, nav="pets", **HELPERS, title="My bookings",
        as_owner=await rows_of(request, found["owner"].items, "owner"),
        as_sitter=await rows_of(request, found["sitter"].items, "sitter"),
        more=found["owner"].has_more or found["sitter"].has_more, error=error,
        buttons=BUTTONS, asked_first=ASKED_FIRST, what_it_does=WHAT_IT_DOES,
        public=await public_of(request, others), back="/bookings",
    )


@router.get("/bookings")
async def my_bookings(request: Request, user: CurrentUser):
    return await bookings_page(request, user)


@router.get("/bookings/{booking_id}/step")
async def confirm_step(request: Request, user: CurrentUser, booking_id: str = BookingId,
                       step: str = "", back: str = "/bookings"):
    """Asks before a step that undoes something for the other person (see `ASKED_FIRST`)."""
    if step not in ASKED_FIRST:
        return await bookings_page(request, user, status=400,
                                   error="That button is not one this page offers.")
    res = pages.resources_of(request)
    booking = await bookings_service.get_booking(res, user, booking_id)
    listing = await listings_service.get_listing(res, booking.listing_id)
    if booking.sitter_id == user.id:
        other_id, screenname, name, role = (booking.owner_id, booking.owner_screenname,
                                            booking.owner_name, "the owner")
    else:
        other_id, screenname, name, role = (booking.sitter_id, booking.sitter_screenname,
                                            booking.sitter_name, "the sitter")
    return await pages.render(
        request, "pets/confirm_step.html", nav="pets", **HELPERS, step=step,
        title="Decline this request?" if step == "decline" else "Cancel this booking?",
        booking=booking, listing=listing, other_id=other_id, other_screenname=screenname,
        other=name or (f"@{screenname}" if screenname else role),
        public=await public_of(request, [other_id]), button=BUTTONS[step].rstrip("…"),
        back=pages.local_path(back, "/bookings"),
    )


@router.post("/bookings/{booking_id}/step")
async def take_step(request: Request, user: CurrentUser, booking_id: str = BookingId):
    form = await pages.read_form(request)
    step = form.get("step", "")
    if step not in BUTTONS:
        return await bookings_page(request, user, status=400,
                                   error="That button is not one this page offers.")
    try:
        await bookings_service.transition(pages.resources_of(request), user, booking_id, step)
    except Conflict as exc:
        return await bookings_page(request, user, status=409, error=f"Not done: {exc.detail}")
    return pages.redirect(request, pages.local_path(form.get("back"), "/bookings"),
                          notice=DONE[step])


async def review_page(request: Request, user: Principal, booking_id: str, *, status: int = 200,
                      values: dict | None = None, errors: dict | None = None,
                      error: str | None = None):
    res = pages.resources_of(request)
    booking = await bookings_service.get_booking(res, user, booking_id)
    if booking.owner_id != user.id:
        raise Forbidden("Only the booking's owner may review the stay.")
    listing = await listings_service.get_listing(res, booking.listing_id)
    not_yet = None
    if await reviews_service.reviewed(res, {booking.id}):
        not_yet = "You have reviewed this stay already: a stay gets one review."
    elif booking.status != Status.COMPLETED:
        not_yet = ("You can review this stay once the sitter marks it completed, from its "
                   "check-out day on.")
    return await pages.render(
        request, "pets/review.html", status=409 if not_yet else status, nav="pets", **HELPERS,
        title=f"Review your stay with {listing.title}", booking=booking, listing=listing,
        values=values or {}, errors=errors or {}, error=error, not_yet=not_yet,
        labels={"rating": "Rating", "text": "Your review"},
    )


@router.get("/bookings/{booking_id}/review")
async def review_form(request: Request, user: CurrentUser, booking_id: str = BookingId):
    return await review_page(request, user, booking_id)


@router.post("/bookings/{booking_id}/review")
async def send_review(request: Request, user: CurrentUser, booking_id: str = BookingId):
    form = await pages.read_form(request)
    rating = form.get("rating", "")
    try:
        body = ReviewCreate.model_validate({
            "rating": int(rating) if rating.isdigit() else rating or None,
            "text": form.get("text") or None,
        })
    except ValidationError as exc:
        errors = pages.field_errors(exc)
        if "rating" in errors:
            errors["rating"] = "Choose from 1 to 5 stars."
        return await review_page(request, user, booking_id, status=422, values=form,
                                 errors=errors)
    try:
        review = await reviews_service.review_booking(pages.resources_of(request), user,
                                                      booking_id, body)
    except Conflict as exc:
        return await review_page(request, user, booking_id, status=409, values=form,
                                 error=exc.detail)
    return pages.redirect(request, f"/listings/{review.listing_id}#reviews",
                          notice="Thank you: your review is published.")
