"""Profile endpoints of the main app: your own profile, public profiles, the directory."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from panamia.bodies import BodyTooLarge
from panamia.errors import Conflict, Invalid, NotFound, Unavailable, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.identity.schemas import ScreennameLookup
from panamia.profiles import service
from panamia.profiles.schemas import (
    CategoryCount,
    DirectoryPage,
    OwnProfile,
    ProfilePatch,
    PublicProfile,
)
from panamia.resources import ResourcesDep

router = APIRouter(prefix="/api", tags=["profiles"])

MONGO_DOWN = responses((Unavailable, "MongoDB is unavailable"))


@router.get("/profile", response_model=OwnProfile, summary="Your account and profile",
            responses={**SIGNED_IN, **MONGO_DOWN})
async def get_profile(user: CurrentUser, resources: ResourcesDep) -> OwnProfile:
    """`user` comes from PostgreSQL, `profile` from MongoDB; the profile is created with
    defaults (inactive, so not yet public) on first access."""
    return await service.own_profile(resources, user)


@router.patch(
    "/profile", response_model=OwnProfile, summary="Change parts of your profile",
    responses=SIGNED_IN | MONGO_DOWN | responses(
        (Conflict, "Changed meanwhile"), (BodyTooLarge, "The profile would exceed 64 KiB"),
        Invalid),
)
async def patch_profile(
    patch: ProfilePatch, user: CurrentUser, resources: ResourcesDep
) -> OwnProfile:
    """Only the fields given change. `hours` and `socialLinks` merge per day and per
    network (`null` removes one); `customLinks` and every other field are replaced whole.
    Set `active: true` to appear in the directory and at `/api/profiles/{screenname}`."""
    return await service.update_profile(resources, user, patch)


@router.get("/profiles/{screenname}", response_model=PublicProfile,
            summary="A public profile", responses=responses((NotFound, "Unknown or inactive")))
async def get_public_profile(
    screenname: Annotated[ScreennameLookup, Path(max_length=64)],
    resources: ResourcesDep,
) -> PublicProfile:
    return await service.public_profile(resources, screenname)


@router.get("/directory", response_model=DirectoryPage, summary="Search active profiles")
async def get_directory(
    resources: ResourcesDep,
    q: Annotated[str | None, Query(max_length=100, description="Words to look for")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[service.Sort, Query(description="By `name`, or `newest` first")] = "name",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> DirectoryPage:
    """Active profiles, 20 a page, with how many match. Each word of `q` must begin a word
    of the place (neighborhood or city), name, categories or bio, or be the screenname
    (case and accents ignored: `cafe` finds Café); `category` matches exactly."""
    return await service.directory(resources, q=q, category=category, page=page, sort=sort)


@router.get("/directory/categories", response_model=list[CategoryCount],
            summary="Categories in use")
async def get_directory_categories(resources: ResourcesDep) -> list[CategoryCount]:
    """The categories of active profiles with how many profiles each has, the most used
    first (at most 50): the choices for `category` in the directory."""
    return await service.categories_in_use(resources)
