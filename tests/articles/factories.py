"""Articles written through the service, and many at once for paging."""

import uuid
from datetime import UTC, datetime, timedelta

from panamia.articles import invitations, service
from panamia.articles.documents import COLLECTION, Status
from panamia.articles.schemas import ArticleCreate
from panamia.resources import Resources
from tests.profiles.factories import principal


async def create_article(
    resources: Resources, author_id: str, *, status: Status = Status.DRAFT,
    co_author_ids: list[str] = (), invited: list[str] = (), **fields,
) -> str:
    """An article by `author_id`, taken to `status` the way people do it; returns its slug.
    `co_author_ids` are invited and accept; `invited` are invited and do not answer."""
    fields.setdefault("title", f"Article {uuid.uuid4().hex[:8]}")
    author = principal(author_id)
    draft = ArticleCreate(**fields, co_author_ids=[*co_author_ids, *invited])
    slug = (await service.create_article(resources, author, draft)).slug
    for co_author in co_author_ids:
        await invitations.accept_invitation(resources, principal(co_author), slug)
    if status != Status.DRAFT:
        await service.publish_article(resources, author, slug)
    if status == Status.REMOVED:
        await service.remove_article(resources, author, slug)
    return slug


async def insert_published(
    resources: Resources, count: int, author_ids: list[str], co_author_ids: list[str] = ()
) -> None:
    """`count` published articles in one bulk write, authors taken in turn."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    documents = []
    for i in range(count):
        when = start + timedelta(minutes=i)
        documents.append({
            "slug": f"bulk-{i:04}", "title": f"Bulk {i:04}", "excerpt": "", "body": "text",
            "authorId": author_ids[i % len(author_ids)], "coAuthorIds": list(co_author_ids),
            "tags": ["bulk"], "status": Status.PUBLISHED.value, "publishedAt": when,
            "createdAt": when, "updatedAt": when,
        })
    await resources.mongo[COLLECTION].insert_many(documents)
