"""What each event tells the other party, through the kit's `tell_other_party`: a new offer or
bid goes to the seller, an answer to the buyer, an outbid bid to its bidder, a transaction's
step to whoever did not take it; what a sweep does (no one acted) to both parties."""

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.exchange.settings import public_url
from panamia.notifications.schemas import ActivityObject, ActivityType
from panamia.settings import Settings
from panamia.sidecar.notices import tell_other_party


def item(settings: Settings, listing_id: str, summary: str) -> ActivityObject:
    return ActivityObject(type="Item", id=listing_id, summary=summary[:500],
                          url=f"{public_url(settings)}/listings/{listing_id}")


def transaction(settings: Settings, transaction_id: str, summary: str) -> ActivityObject:
    return ActivityObject(type="Transaction", id=transaction_id, summary=summary[:500],
                          url=f"{public_url(settings)}/transactions/{transaction_id}")


async def tell(session: AsyncSession, kind: ActivityType, about: ActivityObject, *,
               actor_id: str | None, parties: tuple[str, ...]) -> None:
    """The party who did not act; with no actor, each party."""
    if actor_id is None:
        for party in parties:
            await tell_other_party(session, kind, actor_id=None, parties=(party,), about=about)
    else:
        await tell_other_party(session, kind, actor_id=actor_id, parties=parties, about=about)
