"""What each step of a booking tells the other party (the kit's `tell_other_party`): the
sitter's answers go to the owner, a cancellation to whoever did not cancel, an expiry (no
actor) to the owner, whose request it was."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.notifications import service as notifications
from panamia.notifications.schemas import ActivityBase, ActivityObject
from panamia.pets.bookings.schemas import BookingView
from panamia.sidecar.notices import for_other_party, tell_other_party
from panamia.sidecar.states import Transition


def booking_object(booking_id: str, start: date, end: date, title: str | None,
                   headline: str) -> ActivityObject:
    nights = (end - start).days
    summary = (f"{headline}: {title or 'a listing'}, {start} to {end} "
               f"({nights} night{'s' if nights != 1 else ''})")
    return ActivityObject(type="Booking", id=booking_id, summary=summary)


def request_activity(booking_id: str, owner_id: str, sitter_id: str, start: date, end: date,
                     title: str) -> ActivityBase:
    """The sitter's notice of a new request."""
    return for_other_party(
        "Offer", actor_id=owner_id, parties=(owner_id, sitter_id),
        about=booking_object(booking_id, start, end, title, "Booking request"),
    )


async def requested(session: AsyncSession, booking: BookingView, title: str) -> None:
    await notifications.notify(session, request_activity(
        booking.id, booking.owner_id, booking.sitter_id, booking.start_date, booking.end_date,
        title))


async def transitioned(
    session: AsyncSession, step: Transition, booking: BookingView, title: str | None,
    actor_id: str | None,
) -> None:
    await tell_other_party(session, step.notice, actor_id=actor_id,
                           parties=(booking.owner_id, booking.sitter_id),
                           about=booking_object(booking.id, booking.start_date,
                                                booking.end_date, title, step.announced()))
