"""Notices for the other party of a two-party row (a booking's owner and sitter, an offer's
buyer and seller): ActivityStreams activities written to the outbox in the caller's own
transaction, so they reach MongoDB only if it commits."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.notifications import service as notifications
from panamia.notifications.schemas import ACTIVITY, ActivityBase, ActivityObject, ActivityType


def for_other_party(
    kind: ActivityType, *, actor_id: str | None, parties: Sequence[str], about: ActivityObject,
) -> ActivityBase:
    """A `kind` activity for the party who did not act; with no actor (a sweep), for the
    first party. For a statement that writes its outbox row itself."""
    target = next((p for p in parties if p != actor_id), parties[0])
    return ACTIVITY.validate_python(
        {"type": kind, "actorId": actor_id, "targetId": target, "object": about}
    )


async def tell_other_party(
    session: AsyncSession, kind: ActivityType, *, actor_id: str | None,
    parties: Sequence[str], about: ActivityObject,
) -> str:
    """Queue `for_other_party`'s activity. Returns the notification's future id."""
    activity = for_other_party(kind, actor_id=actor_id, parties=parties, about=about)
    return await notifications.notify(session, activity)
