"""What each step of a booking tells the other party, as ActivityStreams activities written
to the outbox in the step's own transaction (they reach MongoDB only if it commits)."""

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.notifications import service as notifications
from panamia.notifications.schemas import Accept, ActivityObject, Offer, Reject, Update
from panamia.pets.bookings.schemas import BookingView
from panamia.pets.bookings.states import Transition

HEADLINES = {
    "confirm": "Confirmed", "decline": "Declined", "cancel": "Cancelled",
    "complete": "Completed", "expire": "Expired unanswered",
}


def booking_object(booking: BookingView, title: str | None, headline: str) -> ActivityObject:
    nights = f"{booking.nights} night" + ("s" if booking.nights != 1 else "")
    summary = (f"{headline}: {title or 'a listing'}, {booking.start_date} to "
               f"{booking.end_date} ({nights})")
    return ActivityObject(type="Booking", id=booking.id, summary=summary)


async def requested(session: AsyncSession, booking: BookingView, title: str) -> None:
    await notifications.notify(session, Offer(
        actor_id=booking.owner_id, target_id=booking.sitter_id,
        object=booking_object(booking, title, "Booking request"),
    ))


async def transitioned(
    session: AsyncSession, step: Transition, booking: BookingView, title: str | None,
    actor_id: str | None,
) -> None:
    """The sitter's answers go to the owner; a cancellation to whoever did not cancel; an
    expiry (no actor) to the owner, whose request it was."""
    target = booking.sitter_id if actor_id == booking.owner_id else booking.owner_id
    kind = {"confirm": Accept, "decline": Reject}.get(step.name, Update)
    await notifications.notify(session, kind(
        actor_id=actor_id, target_id=target,
        object=booking_object(booking, title,
                               HEADLINES.get(step.name, step.target.value.capitalize())),
    ))
