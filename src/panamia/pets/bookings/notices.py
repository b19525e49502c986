"""What each step of a booking tells the other party (the kit's `tell_other_party`): the
sitter's answers go to the owner, a cancellation to whoever did not cancel, an expiry (no
actor) to the owner, whose request it was."""

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.notifications.schemas import ActivityObject
from panamia.pets.bookings.schemas import BookingView
from panamia.sidecar.notices import tell_other_party
from panamia.sidecar.states import Transition


def booking_object(booking: BookingView, title: str | None, headline: str) -> ActivityObject:
    nights = f"{booking.nights} night" + ("s" if booking.nights != 1 else "")
    summary = (f"{headline}: {title or 'a listing'}, {booking.start_date} to "
               f"{booking.end_date} ({nights})")
    return ActivityObject(type="Booking", id=booking.id, summary=summary)


async def requested(session: AsyncSession, booking: BookingView, title: str) -> None:
    await tell_other_party(session, "Offer", actor_id=booking.owner_id,
                           parties=(booking.owner_id, booking.sitter_id),
                           about=booking_object(booking, title, "Booking request"))


async def transitioned(
    session: AsyncSession, step: Transition, booking: BookingView, title: str | None,
    actor_id: str | None,
) -> None:
    await tell_other_party(session, step.notice, actor_id=actor_id,
                           parties=(booking.owner_id, booking.sitter_id),
                           about=booking_object(booking, title, step.announced()))
