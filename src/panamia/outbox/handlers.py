"""What each topic does to MongoDB. Every handler must be idempotent: the relay may replay.

The domain that owns a topic registers its handler here with `handles` (notifications'
`deliver` for `notification.create`), so the relay knows no domain: the outbox stays below
the domains that write events and deliver them.
"""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from panamia import references
from panamia.db.mongo import MongoDatabase
from panamia.outbox.service import USER_DELETED, Event

Handler = Callable[[Event, MongoDatabase, AsyncSession], Awaitable[None]]


async def delete_user_content(event: Event, mongo: MongoDatabase, session: AsyncSession) -> None:
    """`user.deleted`: remove what the reference map says goes with the user; keep the rest."""
    user_id = event.payload["userId"]
    for reference in references.deleted_with_user():
        await mongo[reference.collection].delete_many({reference.field: user_id})


HANDLERS: dict[str, Handler] = {USER_DELETED: delete_user_content}


def handles(topic: str) -> Callable[[Handler], Handler]:
    """Decorate the function the relay runs for each event of `topic`."""

    def register(handler: Handler) -> Handler:
        HANDLERS[topic] = handler
        return handler

    return register
