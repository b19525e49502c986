"""The profile picture: each member's own, which nobody else may change."""

from panamia.errors import Forbidden
from panamia.identity.dependencies import CurrentUser, Principal
from panamia.photos import pages as photo_pages, routes as photo_routes
from panamia.photos import service as photo_service
from panamia.photos.schemas import PhotoView
from panamia.photos.service import Subject
from panamia.profiles.schemas import ProfileView
from panamia.resources import Resources

KIND = "profiles"


async def own_picture(resources: Resources, user: Principal, user_id: str) -> str:
    """`me` (or one's own id) names one's own picture; nobody may change another's."""
    if user_id not in ("me", user.id):
        raise Forbidden("You can change only your own profile picture.")
    return user.id


PICTURE = Subject(kind=KIND, noun="profile picture", authorize=own_picture,
                  page=lambda _: "/account")
router = photo_routes.api_router(PICTURE, CurrentUser)
page_router = photo_pages.page_router(PICTURE, CurrentUser)


async def picture_of(resources: Resources, user_id: str) -> PhotoView | None:
    return await photo_service.photo_of(resources, KIND, user_id)


async def pictures_of(resources: Resources, profiles: list[ProfileView]) -> dict[str, PhotoView]:
    """The pictures of these people (by user id), for a page of cards: one query."""
    return await photo_service.photos_of(resources, KIND, [p.user_id for p in profiles])
