"""Article bodies and answers at the HTTP edge."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from panamia.articles.documents import Body, CoAuthorIds, Excerpt, Slug, Status, Tags, Title
from panamia.fields import Strict, reject_null
from panamia.identity.schemas import Person
from panamia.schemas import Schema


def _no_nul(ids: list[str]) -> list[str]:
    if any("\x00" in i for i in ids):
        raise ValueError("user ids must not contain NUL characters")
    return ids


# Looked up in PostgreSQL, whose text cannot hold NUL.
UserIds = Annotated[CoAuthorIds, AfterValidator(_no_nul)]


class ArticleCreate(Strict):
    title: Title
    slug: Slug | None = Field(None, description="Derived from the title when left out")
    excerpt: Excerpt = ""
    body: Body = ""
    tags: Tags = []
    co_author_ids: UserIds = Field(
        [], description="PostgreSQL user ids, each invited to co-author; they show in "
        "`coAuthors` once they accept")


class ArticlePatch(Strict):
    """Only the fields given change; each is replaced whole. The slug never changes."""

    title: Title | None = None
    excerpt: Excerpt | None = None
    body: Body | None = None
    tags: Tags | None = None
    co_author_ids: UserIds | None = Field(
        None, description="Only the author or an admin. Who is named and new is invited; a "
        "co-author or invitation left out is dropped")

    _not_null = reject_null("title", "excerpt", "body", "tags", "co_author_ids")


class ArticleSummary(Schema):
    slug: str
    title: str
    excerpt: str
    status: Status
    tags: list[str]
    author: Person
    co_authors: list[Person]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None
    likes: int = Field(0, description="How many members like it")


class ArticleView(ArticleSummary):
    body: str
    liked_by_you: bool = False
    invited_co_authors: list[Person] = Field(
        [], description="Pending invitations: all of them for the article's writers and "
        "admins, your own if you are invited, none for anyone else")


class ArticlePreview(Strict):
    body: Body


class RenderedArticle(Schema):
    html: str = Field(description="The text as the article's page shows it, made safe")


class ArticlePage(Schema):
    items: list[ArticleSummary]
    page: int
    has_more: bool
