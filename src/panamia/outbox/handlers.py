"""What each topic does to MongoDB. Every handler must be idempotent: the relay may replay."""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from panamia import references
from panamia.db.mongo import MongoDatabase
from panamia.notifications import service as notifications_service
from panamia.outbox.service import NOTIFICATION_CREATE, USER_DELETED, Event

Handler = Callable[[Event, MongoDatabase, AsyncSession], Awaitable[None]]


async def delete_user_content(event: Event, mongo: MongoDatabase, session: AsyncSession) -> None:
    """`user.deleted`: remove what the reference map says goes with the user; keep the rest."""
    user_id = event.payload["userId"]
    for reference in references.deleted_with_user():
        await mongo[reference.collection].delete_many({reference.field: user_id})


HANDLERS: dict[str, Handler] = {
    NOTIFICATION_CREATE: notifications_service.deliver,
    USER_DELETED: delete_user_content,
}
