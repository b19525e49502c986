"""What each step of a booking tells the other party (the kit's `tell_other_party`): the
sitter's answers go to the owner, a cancellation to whoever did not cancel, an expiry (no
actor) to the owner, whose request it was. Each links to the booking's page, a completed
stay to its review form."""

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.notifications import service as notifications
from panamia.notifications.schemas import ActivityBase, ActivityObject
from panamia.pets.bookings.schemas import BookingView
from panamia.pets.bookings.states import PENDING_FOR, Status
from panamia.sidecar.notices import for_other_party, tell_other_party
from panamia.sidecar.states import Transition


def stay(title: str | None, start: date, end: date) -> str:
    """`Cats among the books for 3–5 Dec`: the check-out day is the last one named."""
    if (start.year, start.month) == (end.year, end.month):
        days = f"{start.day}–{end.day} {end:%b}"
    elif start.year == end.year:
        days = f"{start.day} {start:%b}–{end.day} {end:%b}"
    else:
        days = f"{start.day} {start:%b} {start.year}–{end.day} {end:%b} {end.year}"
    return f"{title or 'a listing'} for {days}"


def booking_object(booking_id: str, start: date, end: date, title: str | None,
                   headline: str, status: str | None = None,
                   answer_by: datetime | None = None) -> ActivityObject:
    """The booking's own page (its steps and messages); a completed one at its review form."""
    nights = (end - start).days
    summary = (f"{headline}: {title or 'a listing'}, {start} to {end} "
               f"({nights} night{'s' if nights != 1 else ''})")
    url = (f"/bookings/{booking_id}/review" if status == Status.COMPLETED
           else f"/bookings/{booking_id}")
    return ActivityObject(type="Booking", id=booking_id, summary=summary, url=url,
                          name=stay(title, start, end), status=status, end_time=answer_by)


def request_activity(booking_id: str, owner_id: str, sitter_id: str, start: date, end: date,
                     title: str) -> ActivityBase:
    """The sitter's notice of a new request, to answer before it expires."""
    about = booking_object(booking_id, start, end, title, "Booking request",
                           answer_by=datetime.now(UTC) + PENDING_FOR)
    return for_other_party("Offer", actor_id=owner_id, parties=(owner_id, sitter_id),
                           about=about)


async def requested(session: AsyncSession, booking: BookingView, title: str) -> None:
    await notifications.notify(session, request_activity(
        booking.id, booking.owner_id, booking.sitter_id, booking.start_date, booking.end_date,
        title))


async def transitioned(
    session: AsyncSession, step: Transition, booking: BookingView, title: str | None,
    actor_id: str | None,
) -> None:
    status = str(step.target) if step.notice == "Update" else None
    await tell_other_party(session, step.notice, actor_id=actor_id,
                           parties=(booking.owner_id, booking.sitter_id),
                           about=booking_object(booking.id, booking.start_date,
                                                booking.end_date, title, step.announced(),
                                                status))
