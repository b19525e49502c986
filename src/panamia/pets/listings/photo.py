"""A listing's photo: changed only by its sitter."""

from panamia.identity import account
from panamia.identity.dependencies import CurrentUser, OptionalUser, Principal
from panamia.pets.listings import service
from panamia.photos import pages as photo_pages, routes as photo_routes
from panamia.photos.service import Subject
from panamia.resources import Resources


async def sitters_listing(resources: Resources, user: Principal, listing_id: str) -> str:
    """404 for no such listing, 403 for someone else's."""
    async with resources.db.begin() as db:
        await service.authorize(db, user, listing_id, lock=None, admins_too=False)
    return listing_id


async def any_listing(resources: Resources, user: Principal | None, listing_id: str) -> str:
    await service.get_listing(resources, listing_id)
    return listing_id


PHOTO = Subject(kind="listings", noun="listing photo", authorize=sitters_listing,
                see=any_listing,
                page=lambda listing_id: f"/listings/{listing_id}",
                hold_account=account.hold_account)
router = photo_routes.api_router(PHOTO, CurrentUser, OptionalUser)
page_router = photo_pages.page_router(PHOTO, CurrentUser)
