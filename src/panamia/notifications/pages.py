"""The notifications page: newest first, each a sentence linking to what it is about;
opening one marks it read, and one or all can be marked read."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Path, Query, Request
from pymongo.errors import PyMongoError

from panamia import pages
from panamia.errors import NotFound
from panamia.identity.dependencies import CurrentUser, resolve_principal
from panamia.notifications import sentences, service
from panamia.settings import Settings

router = pages.page_router()


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
        found=found, lines=list(zip(found.items, await sentences.describe_all(
            pages.resources_of(request), found.items))), unread_only=unread,
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


def on_the_platform(settings: Settings, url: str) -> bool:
    """Whether `url` is on the main site or a sidecar's: opening a notification goes nowhere
    else, whatever its url says."""
    sites = {urlsplit(site)[:2] for site in (settings.auth_url, *settings.sign_in_return_urls)}
    try:
        return urlsplit(url)[:2] in sites
    except ValueError:
        return False


@router.get("/notifications/{notification_id}/open")
async def open_notification(request: Request, user: CurrentUser,
                            notification_id: Annotated[str, Path(max_length=64)]):
    """Mark it read and go to what it is about (a GET: it is a link, and reading is safe to
    repeat)."""
    resources = pages.resources_of(request)
    try:
        notification = await service.mark_read(resources, user.id, notification_id)
    except NotFound:
        return pages.redirect(request, "/notifications",
                              notice="That notification is no longer here.")
    url = sentences.absolute_url(resources.settings, notification.object)
    if url is None or not on_the_platform(resources.settings, url):
        return pages.redirect(request, "/notifications")
    return pages.redirect(request, url)
