"""Federation's JSON bodies and answers for members and administrators."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from panamia.fields import Strict
from panamia.schemas import Schema

Handle = Annotated[str, Field(min_length=3, max_length=300,
                              description="Someone on another server: @name@example.social")]


class FollowRemote(Strict):
    handle: Handle


class RemoteFollowView(Schema):
    id: str = Field(description="Stop following with DELETE /api/federation/follows/{id}")
    handle: str
    name: str | None
    uri: str
    url: str | None
    state: str = Field(description="pending until their server accepts, then accepted")


class FeedEntry(Schema):
    name: str
    summary: str | None
    content_html: str
    url: str | None
    published: datetime
    author: str


class FollowRequestView(Schema):
    id: str = Field(description="Approve it with POST /api/federation/followers/{id}/approve")
    handle: str
    name: str | None
    url: str | None


class Preferences(Strict):
    approve_followers: bool = Field(
        description="Hold follows from other servers until you approve each one")


class RemoteComment(Schema):
    id: str
    content_html: str
    url: str | None
    published: datetime
    author_name: str
    author_handle: str
    author_url: str | None


class RemoteReactions(Schema):
    likes: int = Field(description="Likes from other servers")
    boosts: int = Field(description="Boosts (Announce) from other servers")
    comments: list[RemoteComment]


class DomainBlockCreate(Strict):
    domain: Annotated[str, Field(min_length=3, max_length=253)]
    reason: Annotated[str | None, Field(max_length=500)] = None


class DomainBlockView(Schema):
    domain: str
    reason: str | None
    created_at: datetime
