"""Notifications made the way the platform makes them: through the outbox and the relay."""

from panamia.notifications import service
from panamia.notifications.schemas import ActivityObject, Like
from panamia.outbox import relay
from panamia.resources import Resources


def like(target_id: str, actor_id: str, **object_fields) -> Like:
    fields = {"type": "Article", "id": "article-1", "summary": "A post"} | object_fields
    return Like(actor_id=actor_id, target_id=target_id, object=ActivityObject(**fields))


async def notify(resources: Resources, activity) -> str:
    async with resources.db.begin() as db:
        return await service.notify(db, activity)


async def delivered(resources: Resources, *activities) -> list[str]:
    """Notify each activity, relay them all; returns the notification ids."""
    ids = [await notify(resources, a) for a in activities]
    await relay.drain(resources)
    return ids
