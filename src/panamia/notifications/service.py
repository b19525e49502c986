"""Notification use cases. Writing goes through the outbox; reading is the recipient's only."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.mongo import MongoDatabase
from panamia.errors import NotFound
from panamia.identity.models import User
from panamia.notifications import documents, emails, repository
from panamia.notifications.schemas import (
    ACTIVITY,
    ActivityBase,
    Notification,
    NotificationPage,
)
from panamia.outbox import service as outbox_service
from panamia.outbox.handlers import handles
from panamia.outbox.service import Event
from panamia.resources import Resources

PAGE_SIZE = 20


async def notify(session: AsyncSession, activity: ActivityBase) -> str:
    """Queue a notification in the caller's transaction; returns its future id.

    It reaches MongoDB once the transaction commits and the relay runs, never if it
    rolls back.
    """
    payload = activity.model_dump(mode="json", by_alias=True)
    return await outbox_service.enqueue(session, outbox_service.NOTIFICATION_CREATE, payload)


@handles(outbox_service.NOTIFICATION_CREATE)
async def deliver(event: Event, mongo: MongoDatabase, session: AsyncSession) -> None:
    """Relay handler for `notification.create`.

    The recipient's row is held with FOR KEY SHARE until the relay commits, so an account
    deletion waits for this insert and its `user.deleted` event then removes it; a
    recipient already deleted gets nothing. One that needs the recipient's action is queued
    for mail as well (`emails`).
    """
    activity = ACTIVITY.validate_python(event.payload)
    recipient = (await session.execute(
        select(User.id).where(User.id == activity.target_id)
        .with_for_update(read=True, key_share=True)
    )).first()
    if recipient is None:
        return
    await repository.insert_once(
        mongo, documents.new_document(event.id, activity, event.created_at)
    )
    await emails.queue(session, event.id, activity)


async def list_notifications(
    resources: Resources, user_id: str, *, unread_only: bool, page: int
) -> NotificationPage:
    found = await repository.page(
        resources.mongo, user_id, unread_only=unread_only,
        skip=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1,
    )
    return NotificationPage(
        items=[documents.from_document(d) for d in found[:PAGE_SIZE]],
        page=page, page_size=PAGE_SIZE, has_more=len(found) > PAGE_SIZE,
    )


async def unread_count(resources: Resources, user_id: str) -> int:
    return await repository.count_unread(resources.mongo, user_id)


async def mark_read(resources: Resources, user_id: str, notification_id: str) -> Notification:
    found = await repository.mark_read(
        resources.mongo, user_id, notification_id, datetime.now(UTC)
    )
    if found is None:
        raise NotFound("You have no notification with this id.")
    return documents.from_document(found)


async def mark_all_read(resources: Resources, user_id: str) -> int:
    return await repository.mark_all_read(resources.mongo, user_id, datetime.now(UTC))
