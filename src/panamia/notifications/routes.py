"""The signed-in user's notifications. Another user's notification id answers 404."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from panamia.errors import NotFound, Unavailable, responses
from panamia.identity.dependencies import CurrentUser
from panamia.notifications import emails, service
from panamia.notifications.schemas import (
    EmailSettings,
    MarkedRead,
    Notification,
    NotificationPage,
    UnreadCount,
)
from panamia.resources import ResourcesDep

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
UNAVAILABLE = responses((Unavailable, "MongoDB is unreachable; nothing was changed"))


@router.get("", response_model=NotificationPage, responses=UNAVAILABLE)
async def list_notifications(
    user: CurrentUser, resources: ResourcesDep,
    unread: bool = False, page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> NotificationPage:
    """Newest first, 20 a page; `unread=true` for the unread ones only."""
    return await service.list_notifications(resources, user.id, unread_only=unread, page=page)


@router.get("/unread-count", response_model=UnreadCount, responses=UNAVAILABLE)
async def unread_count(user: CurrentUser, resources: ResourcesDep) -> UnreadCount:
    return UnreadCount(count=await service.unread_count(resources, user.id))


@router.post("/mark-all-read", response_model=MarkedRead, responses=UNAVAILABLE)
async def mark_all_read(user: CurrentUser, resources: ResourcesDep) -> MarkedRead:
    """`marked` counts the notifications that were unread until now."""
    return MarkedRead(marked=await service.mark_all_read(resources, user.id))


@router.get("/email", response_model=EmailSettings)
async def email_settings(user: CurrentUser, resources: ResourcesDep) -> EmailSettings:
    """How often you get email about what needs your answer (`instant` unless you chose)."""
    return EmailSettings(frequency=await emails.frequency_of(resources, user.id))


@router.put("/email", response_model=EmailSettings)
async def choose_email(body: EmailSettings, user: CurrentUser,
                       resources: ResourcesDep) -> EmailSettings:
    """`instant`: a mail for each booking request, confirmation, message or co-author
    invitation; `daily`: one digest a day of those still unread; `off`: none."""
    await emails.set_frequency(resources, user.id, body.frequency)
    return body


@router.post(
    "/{notification_id}/read", response_model=Notification,
    responses=responses((NotFound, "You have no notification with this id")) | UNAVAILABLE,
)
async def mark_read(
    user: CurrentUser, resources: ResourcesDep,
    notification_id: Annotated[str, Path(max_length=64)],
) -> Notification:
    """Marking one already read keeps its first `readAt`."""
    return await service.mark_read(resources, user.id, notification_id)
