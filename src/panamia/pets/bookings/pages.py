"""My bookings, as owner and as sitter, with a button for each step the declared transitions
allow; and the review form for a completed stay."""

from dataclasses import dataclass
from datetime import UTC, datetime

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
from panamia.sidecar.pages import HELPERS, page_router

router = page_router()
BookingId = Path(pattern=ID_PATTERN)
PAGE_SIZE = 50
BUTTONS = {"confirm": "Confirm", "decline": "Decline", "cancel": "Cancel booking",
           "complete": "Mark as completed"}
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


@dataclass(frozen=True)
class Row:
    booking: BookingListItem
    title: str
    steps: list[str]
    can_review: bool


async def rows_for(request: Request, user: Principal, role: str) -> tuple[list[Row], bool]:
    res = pages.resources_of(request)
    found = await bookings_service.list_bookings(res, user, role=role, status=None, page=1,
                                                 page_size=PAGE_SIZE)
    listings = await listings_service.listings_by_id(res, {b.listing_id for b in found.items})
    completed = {b.id for b in found.items if b.status == Status.COMPLETED}
    reviewed = await reviews_service.reviewed(res, completed) if role == "owner" else set()
    now = datetime.now(UTC)
    rows = []
    for booking in found.items:
        listing = listings.get(booking.listing_id)
        timezone = listing.timezone if listing else "UTC"
        rows.append(Row(
            booking=booking, title=listing.title if listing else "A listing",
            steps=[s.name for s in PERSON_STEPS if allowed(s, booking, role, timezone, now)],
            can_review=role == "owner" and booking.id in completed - reviewed,
        ))
    return rows, found.has_more


async def bookings_page(request: Request, user: Principal, *, status: int = 200,
                        error: str | None = None):
    as_owner, more_owner = await rows_for(request, user, "owner")
    as_sitter, more_sitter = await rows_for(request, user, "sitter")
    return await pages.render(
        request, "pets/bookings.html", status=status, nav="pets", **HELPERS, title="My bookings",
        as_owner=as_owner, as_sitter=as_sitter, more=more_owner or more_sitter, error=error,
        buttons=BUTTONS,
    )


@router.get("/bookings")
async def my_bookings(request: Request, user: CurrentUser):
    return await bookings_page(request, user)


@router.post("/bookings/{booking_id}/step")
async def take_step(request: Request, user: CurrentUser, booking_id: str = BookingId):
    step = (await pages.read_form(request)).get("step", "")
    if step not in BUTTONS:
        return await bookings_page(request, user, status=400,
                                   error="That button is not one this page offers.")
    try:
        await bookings_service.transition(pages.resources_of(request), user, booking_id, step)
    except Conflict as exc:
        return await bookings_page(request, user, status=409, error=f"Not done: {exc.detail}")
    return pages.redirect(request, "/bookings", notice=DONE[step])


async def review_page(request: Request, user: Principal, booking_id: str, *, status: int = 200,
                      values: dict | None = None, errors: dict | None = None,
                      error: str | None = None):
    res = pages.resources_of(request)
    booking = await bookings_service.get_booking(res, user, booking_id)
    if booking.owner_id != user.id:
        raise Forbidden("Only the booking's owner may review the stay.")
    listing = await listings_service.get_listing(res, booking.listing_id)
    return await pages.render(
        request, "pets/review.html", status=status, nav="pets", **HELPERS,
        title=f"Review your stay with {listing.title}", booking=booking, listing=listing,
        values=values or {}, errors=errors or {}, error=error,
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
