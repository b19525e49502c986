"""Liking articles: who may see an article decides who may like it; the likes themselves
are kept in PostgreSQL by `panamia.social.likes`. Liking your own article is allowed and
tells nobody."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from panamia import pages
from panamia.articles import service
from panamia.articles.documents import ArticleDocument, Status
from panamia.errors import Conflict, NotFound, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser, OptionalUser, Principal
from panamia.resources import Resources, ResourcesDep
from panamia.social import likes
from panamia.social.schemas import LikeCounts

router = APIRouter(prefix="/api/articles", tags=["articles"])
page_router = pages.page_router()
SlugPath = Annotated[str, Path(max_length=100)]
FOUND = responses((NotFound, "No such article, or not visible to you"))


def liked(article: ArticleDocument) -> likes.LikedArticle:
    return likes.LikedArticle(id=article.id, slug=article.slug, title=article.title,
                              writers=frozenset(article.writers))


async def article_likes(resources: Resources, user: Principal | None, slug: str) -> LikeCounts:
    article = await service.visible(resources, user, slug)
    return await likes.like_counts(resources, article.id, user)


async def like_article(resources: Resources, user: Principal, slug: str) -> LikeCounts:
    article = await service.visible(resources, user, slug)
    if article.status != Status.PUBLISHED:
        raise Conflict("Only a published article can be liked.")
    return await likes.like(resources, user, liked(article))


async def unlike_article(resources: Resources, user: Principal, slug: str) -> LikeCounts:
    article = await service.visible(resources, user, slug)
    return await likes.unlike(resources, user, liked(article))


@router.get("/{slug}/likes", response_model=LikeCounts, summary="An article's likes",
            responses=FOUND)
async def get_likes(slug: SlugPath, user: OptionalUser, resources: ResourcesDep) -> LikeCounts:
    """How many members like it, and whether you do."""
    return await article_likes(resources, user, slug)


@router.put("/{slug}/like", response_model=LikeCounts, summary="Like an article",
            responses=SIGNED_IN | FOUND | responses((Conflict, "Not published")))
async def put_like(slug: SlugPath, user: CurrentUser, resources: ResourcesDep) -> LikeCounts:
    """Liking twice is one like. Its writers are told, once (not of their own likes)."""
    return await like_article(resources, user, slug)


@router.delete("/{slug}/like", response_model=LikeCounts, summary="Stop liking an article",
               responses=SIGNED_IN | FOUND)
async def delete_like(slug: SlugPath, user: CurrentUser, resources: ResourcesDep) -> LikeCounts:
    """Unliking an article you do not like changes nothing."""
    return await unlike_article(resources, user, slug)


@page_router.post("/articles/{slug}/like")
async def like_page(request: Request, slug: SlugPath, user: CurrentUser):
    await like_article(pages.resources_of(request), user, slug)
    return pages.redirect(request, f"/articles/{slug}", notice="You like this article.")


@page_router.post("/articles/{slug}/unlike")
async def unlike_page(request: Request, slug: SlugPath, user: CurrentUser):
    await unlike_article(pages.resources_of(request), user, slug)
    return pages.redirect(request, f"/articles/{slug}", notice="You no longer like this article.")
