"""The notifications page: newest first, mark one or all as read."""

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Query, Request
from pymongo.errors import PyMongoError

from panamia import pages
from panamia.identity import people
from panamia.identity.dependencies import CurrentUser, resolve_principal
from panamia.notifications import service
from panamia.notifications.schemas import Notification

router = pages.page_router()
SYSTEM = "Pana MIA"
VERBS = {
    "Create": "added", "Update": "updated", "Like": "liked", "Follow": "started following",
    "Invite": "invited you to co-author", "Offer": "asked to book", "Accept": "accepted",
    "Reject": "declined", "Announce": "shared",
}
# An `Offer` of a sidecar's own thing (a bid on an item) is no booking request.
OFFERED = "made an offer on"


async def unread_badge(request: Request) -> pages.LayoutPart:
    """The header's `unread` count; a page still renders, without it, while MongoDB is
    unreachable."""
    resources = pages.resources_of(request)
    user = await resolve_principal(request, resources)
    if user is None:
        return pages.LayoutPart({"unread": None})
    try:
        return pages.LayoutPart({"unread": await service.unread_count(resources, user.id)})
    except PyMongoError:
        return pages.LayoutPart({"unread": None})


@dataclass(frozen=True)
class Line:
    """A notification as a sentence: who, did what, to what."""

    notification: Notification
    actor: str
    actor_screenname: str | None
    verb: str

    @property
    def what(self) -> str:
        item = self.notification.object
        if item.summary:
            return item.summary
        if item.type == "Person":
            return "you"
        return "your " + re.sub(r"(?<=[a-z])(?=[A-Z])", " ", item.type).lower()


async def lines(request: Request, items: list[Notification]) -> list[Line]:
    """Actors' names come from PostgreSQL, one query for the page."""
    known = await people.people_by_id(pages.resources_of(request),
                                      (n.actor_id for n in items if n.actor_id))
    result = []
    for item in items:
        offered = item.type == "Offer" and item.object.from_sidecar
        verb = OFFERED if offered else VERBS.get(item.type, item.type.lower())
        if item.actor_id is None:
            result.append(Line(item, SYSTEM, None, verb))
            continue
        actor = people.person_or_deleted(known, item.actor_id)
        name = actor.name or (f"@{actor.screenname}" if actor.screenname else "Someone")
        result.append(Line(item, name, actor.screenname, verb))
    return result


@router.get("/notifications")
async def notifications(
    request: Request, user: CurrentUser,
    unread: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
):
    found = await service.list_notifications(pages.resources_of(request), user.id,
                                             unread_only=unread, page=page)
    return await pages.render(
        request, "notifications.html", title="Notifications", nav="notifications",
        found=found, lines=await lines(request, found.items), unread_only=unread,
        here=pages.here(request),
    )


@router.post("/notifications/read-all")
async def mark_all_read(request: Request, user: CurrentUser):
    marked = await service.mark_all_read(pages.resources_of(request), user.id)
    notice = f"Marked {marked} as read." if marked else "Everything was read already."
    return pages.redirect(request, "/notifications", notice=notice)


@router.post("/notifications/{notification_id}/read")
async def mark_read(request: Request, user: CurrentUser,
                    notification_id: Annotated[str, Path(max_length=64)]):
    await service.mark_read(pages.resources_of(request), user.id, notification_id)
    back = (await pages.read_form(request)).get("next")
    return pages.redirect(request, pages.local_path(back, "/notifications"))
