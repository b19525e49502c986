"""What each step of a rental tells the other party (the kit's `tell_other_party`), with a
link to the rental: a request goes to the owner, the owner's answers to the renter, a
cancellation to whoever did not cancel, an expiry (no actor) to the renter, whose request
it was, and an admin's settlement to both. Each links to the rental on "my rentals"."""

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.notifications.schemas import ActivityObject
from panamia.rentals import public_url
from panamia.rentals.schemas import RentalView
from panamia.settings import Settings
from panamia.sidecar.notices import tell_other_party
from panamia.sidecar.states import Transition

def rental_object(settings: Settings, rental: RentalView, title: str, headline: str):
    start = rental.starts_at.astimezone(rental.zone).strftime("%Y-%m-%d %H:%M")
    end = rental.ends_at.astimezone(rental.zone).strftime("%Y-%m-%d %H:%M")
    name = f"{title}, {start} to {end} ({rental.timezone})"
    return ActivityObject(type="Rental", id=rental.id,
                          url=f"{public_url(settings)}/rentals#rental-{rental.id}",
                          summary=f"{headline}: {name}", name=name)


def parties(rental: RentalView) -> tuple[str, str]:
    """The renter first: a step no party took (a sweep) is news for the renter."""
    return rental.renter_id, rental.owner_id


async def requested(session: AsyncSession, settings: Settings, rental: RentalView,
                    title: str) -> None:
    await tell_other_party(session, "Offer", actor_id=rental.renter_id, parties=parties(rental),
                           about=rental_object(settings, rental, title, "Rental request"))


async def transitioned(session: AsyncSession, settings: Settings, step: Transition,
                       rental: RentalView, title: str, actor_id: str | None) -> None:
    about = rental_object(settings, rental, title, step.announced())
    if actor_id is not None and actor_id not in parties(rental):  # an admin settled it
        for party in parties(rental):
            await tell_other_party(session, "Update", actor_id=None, parties=(party,),
                                   about=about)
        return
    await tell_other_party(session, step.notice, actor_id=actor_id, parties=parties(rental),
                           about=about)
