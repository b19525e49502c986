"""Following members: anyone with a public profile can be followed, and the lists of
followers and follows show only members with public profiles. The follows themselves are
kept in PostgreSQL by `panamia.social.follows`."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from panamia import pages
from panamia.errors import Invalid, NotFound, responses
from panamia.identity import people
from panamia.identity.dependencies import SIGNED_IN, CurrentUser, OptionalUser, Principal
from panamia.identity.schemas import Person, ScreennameLookup
from panamia.profiles import service
from panamia.resources import Resources, ResourcesDep
from panamia.social import follows
from panamia.social.schemas import FollowCounts, PeoplePage

router = APIRouter(prefix="/api/people", tags=["follows"])
page_router = pages.page_router()
Screenname = Annotated[ScreennameLookup, Path(max_length=64)]
PageNumber = Annotated[int, Query(ge=1, le=1000)]
PAGE_SIZE = 30
FOUND = responses((NotFound, "No public profile by this screenname"))


async def member(resources: Resources, screenname: str) -> Person:
    """The member behind a public profile (404 otherwise)."""
    profile = await service.public_profile(resources, screenname)
    return Person(id=profile.user_id, screenname=profile.screenname, name=profile.name or None)


async def member_counts(resources: Resources, screenname: str,
                        viewer: Principal | None) -> FollowCounts:
    return await follows.follow_counts(resources, (await member(resources, screenname)).id,
                                       viewer)


async def follow_member(resources: Resources, user: Principal, screenname: str) -> FollowCounts:
    return await follows.follow(resources, user, await member(resources, screenname))


async def unfollow_member(resources: Resources, user: Principal,
                          screenname: str) -> FollowCounts:
    return await follows.unfollow(resources, user, await member(resources, screenname))


async def public_people(resources: Resources, ids: list[str], page: int,
                        has_more: bool) -> PeoplePage:
    """`ids` in order, keeping those with a public profile."""
    public = await service.with_public_profile(resources, ids)
    known = await people.people_by_id(resources, [i for i in ids if i in public])
    return PeoplePage(items=[known[i] for i in ids if i in known], page=page, has_more=has_more)


async def followers(resources: Resources, screenname: str, page: int) -> PeoplePage:
    ids, has_more = await follows.follower_ids(
        resources, (await member(resources, screenname)).id, page=page, page_size=PAGE_SIZE)
    return await public_people(resources, ids, page, has_more)


async def following(resources: Resources, screenname: str, page: int) -> PeoplePage:
    ids, has_more = await follows.followed_ids(
        resources, (await member(resources, screenname)).id, page=page, page_size=PAGE_SIZE)
    return await public_people(resources, ids, page, has_more)


@router.get("/{screenname}/follows", response_model=FollowCounts,
            summary="A member's followers and follows, counted", responses=FOUND)
async def get_counts(screenname: Screenname, user: OptionalUser,
                     resources: ResourcesDep) -> FollowCounts:
    """`followedByYou` is false when you are not signed in."""
    return await member_counts(resources, screenname, user)


@router.put("/{screenname}/follow", response_model=FollowCounts, summary="Follow a member",
            responses=SIGNED_IN | FOUND | responses((Invalid, "That is you")))
async def put_follow(screenname: Screenname, user: CurrentUser,
                     resources: ResourcesDep) -> FollowCounts:
    """Following twice is one follow; the member is told once."""
    return await follow_member(resources, user, screenname)


@router.delete("/{screenname}/follow", response_model=FollowCounts,
               summary="Stop following a member", responses=SIGNED_IN | FOUND)
async def delete_follow(screenname: Screenname, user: CurrentUser,
                        resources: ResourcesDep) -> FollowCounts:
    """Unfollowing someone you do not follow changes nothing."""
    return await unfollow_member(resources, user, screenname)


@router.get("/{screenname}/followers", response_model=PeoplePage,
            summary="Who follows a member", responses=FOUND)
async def get_followers(screenname: Screenname, resources: ResourcesDep,
                        page: PageNumber = 1) -> PeoplePage:
    """Members with public profiles, most recent first, 30 a page."""
    return await followers(resources, screenname, page)


@router.get("/{screenname}/following", response_model=PeoplePage,
            summary="Whom a member follows", responses=FOUND)
async def get_following(screenname: Screenname, resources: ResourcesDep,
                        page: PageNumber = 1) -> PeoplePage:
    """Members with public profiles, most recent first, 30 a page."""
    return await following(resources, screenname, page)


@page_router.post("/people/{screenname}/follow")
async def follow_page(request: Request, screenname: Screenname, user: CurrentUser):
    await follow_member(pages.resources_of(request), user, screenname)
    return pages.redirect(request, f"/people/{screenname}",
                          notice=f"You follow @{screenname} now.")


@page_router.post("/people/{screenname}/unfollow")
async def unfollow_page(request: Request, screenname: Screenname, user: CurrentUser):
    await unfollow_member(pages.resources_of(request), user, screenname)
    return pages.redirect(request, f"/people/{screenname}",
                          notice=f"You no longer follow @{screenname}.")


async def people_page(request: Request, screenname: str, title: str, found: PeoplePage):
    profile = await service.public_profile(pages.resources_of(request), screenname)
    return await pages.render(request, "follows.html", title=title, nav="directory",
                              profile=profile, found=found, base={})


@page_router.get("/people/{screenname}/followers")
async def followers_page(request: Request, screenname: Screenname, page: PageNumber = 1):
    found = await followers(pages.resources_of(request), screenname, page)
    return await people_page(request, screenname, f"Followers of @{screenname}", found)


@page_router.get("/people/{screenname}/following")
async def following_page(request: Request, screenname: Screenname, page: PageNumber = 1):
    found = await following(pages.resources_of(request), screenname, page)
    return await people_page(request, screenname, f"Followed by @{screenname}", found)
