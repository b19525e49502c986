"""Profile bodies and answers at the HTTP edge."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from panamia.fields import Strict, reject_null
from panamia.identity.schemas import SessionUser
from panamia.profiles.documents import (
    Bio,
    Categories,
    Extra,
    Hours,
    Images,
    Location,
    Name,
    ProfileFields,
    SocialLinks,
    TimeFormat,
)
from panamia.schemas import Schema, SingleLine


class ProfilePatch(Strict):
    """Only the fields given change. `hours` and `socialLinks` merge key by key: a day or a
    network given replaces that day or network, `null` removes it, others stay as they are;
    `customLinks`, when given, replaces the whole list. Every other field is replaced whole;
    `location: null` removes the location."""

    name: Annotated[Name, SingleLine] | None = None
    bio: Bio | None = None
    images: Images | None = None
    social_links: SocialLinks | None = None
    hours: Hours | None = None
    categories: Categories | None = None
    location: Location | None = None
    time_format: TimeFormat | None = None
    active: bool | None = None
    extra: Extra | None = None

    _not_null = reject_null(
        "name", "bio", "images", "social_links", "hours", "categories", "time_format",
        "active", "extra",
    )


class ProfileView(ProfileFields):
    user_id: str
    created_at: datetime
    updated_at: datetime


class PublicProfile(ProfileView):
    screenname: str | None


class OwnProfile(Schema):
    user: SessionUser = Field(description="From PostgreSQL, the authority on identity")
    profile: ProfileView = Field(description="From MongoDB")


class DirectoryPage(Schema):
    items: list[PublicProfile]
    page: int
    has_more: bool
    total: int = Field(description="How many profiles match, counted up to 1,000")
    total_capped: bool = Field(description="True when more than `total` profiles match")


class CategoryCount(Schema):
    name: str
    count: int = Field(description="Active profiles in this category")
