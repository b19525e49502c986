"""The profile picture: each member's own, which nobody else may change."""

from panamia.errors import Forbidden, NotFound
from panamia.identity import account
from panamia.identity.dependencies import CurrentUser, OptionalUser, Principal
from panamia.photos import pages as photo_pages, routes as photo_routes
from panamia.photos.service import Subject
from panamia.profiles import repository
from panamia.resources import Resources

KIND = "profiles"


async def own_picture(resources: Resources, user: Principal, user_id: str) -> str:
    """`me` (or one's own id) names one's own picture; nobody may change another's."""
    if user_id not in ("me", user.id):
        raise Forbidden("You can change only your own profile picture.")
    return user.id


async def shown_picture(resources: Resources, user: Principal | None, user_id: str) -> str:
    """Anyone sees the picture of a public (active) profile; its member always sees theirs."""
    if user is not None and user_id in ("me", user.id):
        return user.id
    profile = await repository.find_profile(resources.mongo, user_id)
    if profile is None or not profile.get("active"):
        raise NotFound("This profile is not public, or does not exist.",
                       error="profile not found")
    return user_id


PICTURE = Subject(kind=KIND, noun="profile picture", authorize=own_picture, see=shown_picture,
                  page=lambda _: "/account",
                  hold_account=account.hold_account)
router = photo_routes.api_router(PICTURE, CurrentUser, OptionalUser)
page_router = photo_pages.page_router(PICTURE, CurrentUser)

