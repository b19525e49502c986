"""An article's cover photo: changed by whoever may edit the article (its author and
co-authors, and admins)."""

from panamia.articles import service
from panamia.articles.permissions import Action
from panamia.identity import account
from panamia.identity.dependencies import CurrentUser, OptionalUser, Principal
from panamia.photos import pages as photo_pages, routes as photo_routes
from panamia.photos.service import Subject
from panamia.resources import Resources


async def editable(resources: Resources, user: Principal, slug: str) -> str:
    """404 for an article `user` cannot see, 403 for one they may not edit."""
    await service.authorized(resources, user, slug, Action.EDIT)
    return slug


async def readable(resources: Resources, user: Principal | None, slug: str) -> str:
    await service.visible(resources, user, slug)
    return slug


COVER = Subject(kind="articles", noun="cover photo", authorize=editable, see=readable,
                page=lambda slug: f"/articles/{slug}",
                hold_account=account.hold_account)
router = photo_routes.api_router(COVER, CurrentUser, OptionalUser)
page_router = photo_pages.page_router(COVER, CurrentUser)
