"""The `articles` collection: markdown written by PostgreSQL users, addressed by slug."""

import re
import secrets
import string
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from panamia.fields import Label, Text, unique
from panamia.schemas import Schema, SingleLine

COLLECTION = "articles"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_BASE_LENGTH = 80
SUFFIX_ALPHABET = string.ascii_lowercase + string.digits

INDEXES = {
    COLLECTION: [
        IndexModel([("slug", ASCENDING)], name="uq_articles_slug", unique=True),
        IndexModel([("status", ASCENDING), ("publishedAt", DESCENDING), ("_id", DESCENDING)],
                   name="ix_articles_published"),
        IndexModel([("authorId", ASCENDING), ("status", ASCENDING)], name="ix_articles_author"),
        IndexModel([("coAuthorIds", ASCENDING), ("status", ASCENDING)],
                   name="ix_articles_coauthors"),
        IndexModel([("tags", ASCENDING), ("status", ASCENDING), ("publishedAt", DESCENDING)],
                   name="ix_articles_tags"),
    ]
}


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    REMOVED = "removed"


Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)]
Title = Annotated[Text, SingleLine, Field(min_length=1, max_length=200)]
Excerpt = Annotated[Text, Field(max_length=500)]
Body = Annotated[Text, Field(max_length=50_000, description="Markdown")]
Tags = Annotated[list[Label], AfterValidator(unique), Field(max_length=10)]
CoAuthorIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=32)]],
    AfterValidator(unique), Field(max_length=10),
]


class ArticleDocument(Schema):
    # MongoDB's ObjectId, as text (likes refer to it); absent before the first insert.
    id: Annotated[str, BeforeValidator(str)] | None = Field(None, alias="_id")
    slug: str
    title: str
    excerpt: str = ""
    body: str = ""
    author_id: str
    co_author_ids: list[str] = []
    invited_co_author_ids: list[str] = []
    tags: list[str] = []
    status: Status
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None
    removed_by: str | None = None
    status_before_removal: Status | None = None

    @property
    def writers(self) -> set[str]:
        return {self.author_id, *self.co_author_ids}


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_BASE_LENGTH].rstrip("-") or "article"


def with_suffix(slug: str) -> str:
    suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(6))
    return f"{slug[:SLUG_BASE_LENGTH]}-{suffix}"
