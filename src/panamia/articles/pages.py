"""Article pages: the list, reading (markdown, sanitized), writing, previewing, editing,
publishing and unpublishing."""

from typing import Annotated, Literal

from fastapi import Path, Query, Request
from pydantic import ValidationError

from panamia import pages
from panamia.articles import cover as article_cover, invitations, service
from panamia.articles.documents import Status
from panamia.articles.permissions import REFUSALS, Action
from panamia.articles.schemas import ArticleCreate, ArticlePatch
from panamia.errors import DomainError, Forbidden, Invalid
from panamia.identity.dependencies import CurrentUser, OptionalUser

router = pages.page_router()
SlugPath = Annotated[str, Path(max_length=100)]
LABELS = {"title": "Title", "excerpt": "Summary", "tags": "Tags", "body": "Text"}


def article_body(form: dict[str, str]) -> dict:
    return {"title": form.get("title", "").strip(), "excerpt": form.get("excerpt", "").strip(),
            "body": form.get("body", ""), "tags": pages.split_list(form.get("tags"))}


async def editor(request: Request, *, action: str, slug: str | None, values: dict[str, str],
                 status: int = 200, **context):
    title = "Edit article" if slug else "Write an article"
    return await pages.render(request, "article_form.html", status=status, title=title,
                              nav="articles", action=action, slug=slug, values=values,
                              labels=LABELS, **context)


async def save(request: Request, action: str, slug: str | None, write):
    """Validate the form into a body, then `write(body)`; on failure show the editor again
    with what was typed and a message beside each field. The Preview button saves nothing:
    it shows the editor again with the text as the article's page will show it."""
    form = await pages.read_form(request)
    if form.get("intent") == "preview":
        return await editor(request, action=action, slug=slug, values=form,
                            preview=form.get("body", ""))
    try:
        return await write(article_body(form))
    except ValidationError as exc:
        return await editor(request, action=action, slug=slug, values=form, status=422,
                            errors=pages.field_errors(exc))
    except Invalid as exc:
        return await editor(request, action=action, slug=slug, values=form, status=422,
                            errors=pages.invalid_errors(exc))
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        return await editor(request, action=action, slug=slug, values=form,
                            status=exc.status, error=exc.detail)


@router.get("/articles")
async def articles(
    request: Request, user: OptionalUser,
    mine: Annotated[bool, Query()] = False,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    found = await service.list_articles(pages.resources_of(request), user, mine=mine, tag=tag,
                                        page=page)
    title = "Your articles" if mine else "Articles"
    return await pages.render(request, "articles.html", title=title, nav="articles",
                              found=found, mine=mine, tag=tag or "",
                              covers=await article_cover.COVER.photos(
                                  pages.resources_of(request), [a.slug for a in found.items]))


@router.get("/articles/new")
async def new_article(request: Request, user: CurrentUser):
    return await editor(request, action="/articles/new", slug=None, values={})


@router.post("/articles/new")
async def create_article(request: Request, user: CurrentUser):
    async def write(body):
        draft = ArticleCreate.model_validate(body)
        created = await service.create_article(pages.resources_of(request), user, draft)
        return pages.redirect(request, f"/articles/{created.slug}",
                              notice="Draft saved. Only you can see it until you publish it.")

    return await save(request, "/articles/new", None, write)


@router.get("/articles/{slug}")
async def read(request: Request, slug: SlugPath, user: OptionalUser):
    article, allowed = await service.read_article(pages.resources_of(request), user, slug)
    me = user.id if user else None
    return await pages.render(request, "article.html", title=article.title, nav="articles",
                              article=article, may_edit=Action.EDIT in allowed,
                              cover=await article_cover.COVER.photo(pages.resources_of(request),
                                                                    slug),
                              may_like=user is not None and article.status == Status.PUBLISHED,
                              may_publish=Action.PUBLISH in allowed,
                              invited=any(p.id == me for p in article.invited_co_authors),
                              co_author=any(p.id == me for p in article.co_authors))


@router.get("/articles/{slug}/edit")
async def edit(request: Request, slug: SlugPath, user: CurrentUser):
    article, allowed = await service.read_article(pages.resources_of(request), user, slug)
    if Action.EDIT not in allowed:
        raise Forbidden(REFUSALS[Action.EDIT])
    values = {"title": article.title, "excerpt": article.excerpt, "body": article.body,
              "tags": ", ".join(article.tags)}
    return await editor(request, action=f"/articles/{slug}/edit", slug=slug, values=values)


@router.post("/articles/{slug}/edit")
async def update(request: Request, slug: SlugPath, user: CurrentUser):
    async def write(body):
        patch = ArticlePatch.model_validate(body)
        await service.update_article(pages.resources_of(request), user, slug, patch)
        return pages.redirect(request, f"/articles/{slug}", notice="Your changes are saved.")

    return await save(request, f"/articles/{slug}/edit", slug, write)


@router.post("/articles/{slug}/publish")
async def publish(request: Request, slug: SlugPath, user: CurrentUser):
    await service.publish_article(pages.resources_of(request), user, slug)
    return pages.redirect(request, f"/articles/{slug}",
                          notice="Published: everyone can read it now.")


@router.post("/articles/{slug}/unpublish")
async def unpublish(request: Request, slug: SlugPath, user: CurrentUser):
    await service.unpublish_article(pages.resources_of(request), user, slug)
    return pages.redirect(request, f"/articles/{slug}",
                          notice="Unpublished: it is a draft again, which only its writers see.")


# What each answer does, what the person is told, and where they go next (after declining or
# leaving, a draft is no longer theirs to see).
CO_AUTHOR_STEPS = {
    "accept": (invitations.accept_invitation, "You are now a co-author.", None),
    "decline": (invitations.decline_invitation, "Invitation declined.", "/notifications"),
    "leave": (invitations.leave_article, "You are no longer a co-author.", "/articles"),
}


@router.post("/articles/{slug}/co-authors/{step}")
async def co_author_step(request: Request, slug: SlugPath,
                         step: Literal["accept", "decline", "leave"], user: CurrentUser):
    act, notice, next_page = CO_AUTHOR_STEPS[step]
    await act(pages.resources_of(request), user, slug)
    return pages.redirect(request, next_page or f"/articles/{slug}", notice=notice)
