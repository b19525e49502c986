"""Follows and likes at the HTTP edge."""

from panamia.identity.schemas import Person
from panamia.schemas import Schema


class FollowCounts(Schema):
    """A member's accepted followers and follows, and whether you follow them."""

    followers: int
    following: int
    followed_by_you: bool


class LikeCounts(Schema):
    likes: int
    liked_by_you: bool


class PeoplePage(Schema):
    """Members with public profiles, most recent follow first."""

    items: list[Person]
    page: int
    has_more: bool
