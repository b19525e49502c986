"""The profile picture: each member's own, which nobody else may change."""

from panamia.errors import Forbidden
from panamia.identity import account
from panamia.identity.dependencies import CurrentUser, Principal
from panamia.photos import pages as photo_pages, routes as photo_routes
from panamia.photos.service import Subject
from panamia.resources import Resources

KIND = "profiles"


async def own_picture(resources: Resources, user: Principal, user_id: str) -> str:
    """`me` (or one's own id) names one's own picture; nobody may change another's."""
    if user_id not in ("me", user.id):
        raise Forbidden("You can change only your own profile picture.")
    return user.id


PICTURE = Subject(kind=KIND, noun="profile picture", authorize=own_picture,
                  page=lambda _: "/account",
                  hold_account=account.hold_account)
router = photo_routes.api_router(PICTURE, CurrentUser)
page_router = photo_pages.page_router(PICTURE, CurrentUser)

