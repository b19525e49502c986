"""Article endpoints of the main app. Who may do what: see `articles/permissions.py`."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from panamia.articles import invitations, service
from panamia.articles.schemas import (
    ArticleCreate,
    ArticlePage,
    ArticlePatch,
    ArticlePreview,
    ArticleView,
    RenderedArticle,
)
from panamia.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser, OptionalUser
from panamia.identity.schemas import ScreennameLookup
from panamia.pages.markdown import render_markdown
from panamia.resources import ResourcesDep

router = APIRouter(prefix="/api/articles", tags=["articles"])
SlugPath = Annotated[str, Path(max_length=100)]

FOUND = responses((NotFound, "No such article, or not visible to you"))
ALLOWED = responses((Forbidden, "Visible to you, but not yours to change this way"),
                    (Conflict, "Changed meanwhile, or not in a state that allows this"))


@router.post("", response_model=ArticleView, status_code=201, summary="Write a draft",
             responses=SIGNED_IN | responses((Conflict, "Slug taken"), Invalid))
async def create_article(
    draft: ArticleCreate, user: CurrentUser, resources: ResourcesDep
) -> ArticleView:
    """You become the author. Everyone in `coAuthorIds` (existing users, by id) gets an
    invitation and becomes a co-author on accepting it."""
    return await service.create_article(resources, user, draft)


@router.post("/preview", response_model=RenderedArticle, summary="Preview an article's text",
             responses=SIGNED_IN | responses(Invalid))
async def preview_article(preview: ArticlePreview, user: CurrentUser) -> RenderedArticle:
    """The Markdown as HTML, the way the article's page will show it; nothing is saved."""
    return RenderedArticle(html=render_markdown(preview.body))


@router.get("", response_model=ArticlePage, summary="List articles",
            responses=responses((Unauthorized, "`mine=true` without signing in")))
async def list_articles(
    user: OptionalUser,
    resources: ResourcesDep,
    author: Annotated[
        ScreennameLookup | None, Query(max_length=64, description="A screenname")
    ] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    mine: Annotated[bool, Query(description="Your drafts and published articles")] = False,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=service.MAX_PAGE_SIZE)] = 20,
) -> ArticlePage:
    """Published articles, newest first. `mine=true` lists the articles you wrote or
    co-wrote, drafts included, last edited first. `author` keeps those the person wrote or
    co-wrote."""
    return await service.list_articles(
        resources, user, author=author, tag=tag, mine=mine, page=page, page_size=page_size
    )


@router.get("/{slug}", response_model=ArticleView, summary="Read an article", responses=FOUND)
async def get_article(slug: SlugPath, user: OptionalUser, resources: ResourcesDep) -> ArticleView:
    """Drafts are visible to their author, co-authors and admins; removed articles only to
    admins."""
    return await service.get_article(resources, user, slug)


@router.patch("/{slug}", response_model=ArticleView, summary="Edit an article",
              responses={**SIGNED_IN, **FOUND, **ALLOWED})
async def patch_article(
    slug: SlugPath, patch: ArticlePatch, user: CurrentUser, resources: ResourcesDep
) -> ArticleView:
    """Author, co-author or admin; only the author or an admin may change `coAuthorIds`:
    whoever is newly named gets an invitation, whoever is left out is no longer a co-author."""
    return await service.update_article(resources, user, slug, patch)


@router.post("/{slug}/publish", response_model=ArticleView, summary="Publish a draft",
             responses={**SIGNED_IN, **FOUND, **ALLOWED})
async def publish_article(
    slug: SlugPath, user: CurrentUser, resources: ResourcesDep
) -> ArticleView:
    """Author or co-author."""
    return await service.publish_article(resources, user, slug)


@router.post("/{slug}/unpublish", response_model=ArticleView, summary="Unpublish an article",
             responses={**SIGNED_IN, **FOUND, **ALLOWED})
async def unpublish_article(
    slug: SlugPath, user: CurrentUser, resources: ResourcesDep
) -> ArticleView:
    """Author or co-author. It becomes a draft again: gone from lists, and its address finds
    nothing for anyone but its writers (and admins). Unpublishing a draft changes nothing."""
    return await service.unpublish_article(resources, user, slug)


@router.delete("/{slug}", status_code=204, summary="Remove an article (soft)",
               responses={**SIGNED_IN, **FOUND, **ALLOWED})
async def delete_article(slug: SlugPath, user: CurrentUser, resources: ResourcesDep) -> Response:
    """Author or admin. The article is kept and can be restored by an admin; its likes go."""
    await service.remove_article(resources, user, slug)
    return Response(status_code=204)


@router.post("/{slug}/restore", response_model=ArticleView, summary="Restore a removed article",
             responses={**SIGNED_IN, **FOUND, **ALLOWED})
async def restore_article(
    slug: SlugPath, user: CurrentUser, resources: ResourcesDep
) -> ArticleView:
    """Admins only; the article returns to the status it had when removed."""
    return await service.restore_article(resources, user, slug)


NOT_NAMED = responses((Conflict, "You are not invited, or not a co-author"))


@router.post("/{slug}/co-authors/me/accept", response_model=ArticleView,
             summary="Accept an invitation to co-author",
             responses={**SIGNED_IN, **FOUND, **NOT_NAMED})
async def accept_invitation(
    slug: SlugPath, user: CurrentUser, resources: ResourcesDep
) -> ArticleView:
    """You join `coAuthors` and may edit and publish; the author is told."""
    return await invitations.accept_invitation(resources, user, slug)


@router.post("/{slug}/co-authors/me/decline", status_code=204,
             summary="Decline an invitation to co-author",
             responses={**SIGNED_IN, **FOUND, **NOT_NAMED})
async def decline_invitation(
    slug: SlugPath, user: CurrentUser, resources: ResourcesDep
) -> Response:
    """The invitation is dropped; the author is told."""
    await invitations.decline_invitation(resources, user, slug)
    return Response(status_code=204)


@router.delete("/{slug}/co-authors/me", status_code=204, summary="Stop being a co-author",
               responses={**SIGNED_IN, **FOUND, **NOT_NAMED})
async def leave_article(slug: SlugPath, user: CurrentUser, resources: ResourcesDep) -> Response:
    """At any time, whatever the article's status: your name comes off it."""
    await invitations.leave_article(resources, user, slug)
    return Response(status_code=204)
