"""Article use cases. Each mutation reads the article, checks who may do it, then writes
with one conditional update that fails (409) if the article changed in between."""

from typing import Any

from pymongo.errors import DuplicateKeyError

from panamia.articles import repository
from panamia.articles.documents import ArticleDocument, Status, slugify, with_suffix
from panamia.articles.permissions import REFUSALS, Action, can_see, may, only_as_co_author
from panamia.articles.schemas import (
    ArticleCreate,
    ArticlePage,
    ArticlePatch,
    ArticleSummary,
    ArticleView,
)
from panamia.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from panamia.identity.dependencies import Principal
from panamia.profiles import people
from panamia.profiles.fields import mongo_now, normalize_label
from panamia.resources import Resources

SLUG_ATTEMPTS = 5
MAX_PAGE_SIZE = 100


def writers(document: dict[str, Any]) -> list[str]:
    return [document["authorId"], *document.get("coAuthorIds", [])]


def present(
    document: dict[str, Any], known: dict, model: type[ArticleSummary]
) -> ArticleSummary:
    return model.model_validate({
        **document,
        "author": people.person_or_deleted(known, document["authorId"]),
        "coAuthors": [people.person_or_deleted(known, i) for i in document.get("coAuthorIds", [])],
    })


async def view(resources: Resources, document: dict[str, Any]) -> ArticleView:
    return present(document, await people.people_by_id(resources, writers(document)), ArticleView)


async def check_co_authors(resources: Resources, author_id: str, ids: list[str]) -> None:
    """Co-authors must be other people with accounts: checked in one query."""
    if author_id in ids:
        raise Invalid("The author cannot also be a co-author.", fields=["coAuthorIds"])
    unknown = set(ids) - set(await people.people_by_id(resources, ids))
    if unknown:
        raise Invalid(f"No user has the id(s) {', '.join(sorted(unknown))}.",
                      fields=["coAuthorIds"])


async def create_article(
    resources: Resources, user: Principal, draft: ArticleCreate
) -> ArticleView:
    """A draft by `user`. A slug given is used as is (409 if taken); a slug derived from
    the title gets a short random suffix when taken."""
    await check_co_authors(resources, user.id, draft.co_author_ids)
    now = mongo_now()
    document = {
        **draft.model_dump(by_alias=True, exclude={"slug"}),
        "authorId": user.id, "status": Status.DRAFT.value, "publishedAt": None,
        "createdAt": now, "updatedAt": now,
    }
    base = draft.slug or slugify(draft.title)
    slug = base
    for _ in range(SLUG_ATTEMPTS):
        try:
            await repository.insert(resources.mongo, {**document, "slug": slug})
        except DuplicateKeyError:
            if draft.slug:
                raise Conflict(f"The slug {slug!r} is taken: choose another, or leave it out "
                               "to derive one from the title.", error="slug taken") from None
            slug = with_suffix(base)
            continue
        return await view(resources, {**document, "slug": slug})
    raise Conflict("No free slug was found for this title; give a slug.", error="slug taken")


async def visible(resources: Resources, user: Principal | None, slug: str) -> ArticleDocument:
    found = await repository.find_by_slug(resources.mongo, slug)
    article = ArticleDocument.model_validate(found) if found else None
    if article is None or not can_see(article, user):
        raise NotFound(f"No article {slug!r}.", error="article not found")
    return article


async def get_article(resources: Resources, user: Principal | None, slug: str) -> ArticleView:
    article = await visible(resources, user, slug)
    return await view(resources, article.model_dump(by_alias=True))


async def read_article(
    resources: Resources, user: Principal | None, slug: str
) -> tuple[ArticleView, frozenset[Action]]:
    """The article and what `user` may do with it, for pages that offer only those buttons."""
    article = await visible(resources, user, slug)
    allowed = frozenset(a for a in Action if user is not None and may(article, user, a))
    return await view(resources, article.model_dump(by_alias=True)), allowed


async def authorized(
    resources: Resources, user: Principal, slug: str, action: Action
) -> ArticleDocument:
    article = await visible(resources, user, slug)
    if not may(article, user, action):
        raise Forbidden(REFUSALS[action])
    return article


async def write(
    resources: Resources, user: Principal, article: ArticleDocument, action: Action,
    update: dict[str, Any],
) -> dict[str, Any]:
    """Apply `update` only if the article is as it was read and `user` still holds the role."""
    query: dict[str, Any] = {"slug": article.slug, "status": article.status.value}
    if only_as_co_author(article, user, action):
        query["coAuthorIds"] = user.id
    saved = await repository.update_where(resources.mongo, query, update)
    if saved is None:
        raise Conflict("The article changed meanwhile; reload it and try again.")
    return saved


async def update_article(
    resources: Resources, user: Principal, slug: str, patch: ArticlePatch
) -> ArticleView:
    article = await authorized(resources, user, slug, Action.EDIT)
    if patch.co_author_ids is not None:
        if not may(article, user, Action.EDIT_CO_AUTHORS):
            raise Forbidden(REFUSALS[Action.EDIT_CO_AUTHORS])
        await check_co_authors(resources, article.author_id, patch.co_author_ids)
    changes = patch.model_dump(by_alias=True, include=patch.model_fields_set)
    saved = await write(resources, user, article, Action.EDIT,
                        {"$set": {**changes, "updatedAt": mongo_now()}})
    return await view(resources, saved)


async def publish_article(resources: Resources, user: Principal, slug: str) -> ArticleView:
    """Publishing a published article changes nothing."""
    article = await authorized(resources, user, slug, Action.PUBLISH)
    if article.status == Status.REMOVED:
        raise Conflict("A removed article must be restored by an admin first.")
    if article.status == Status.PUBLISHED:
        return await view(resources, article.model_dump(by_alias=True))
    now = mongo_now()
    saved = await write(resources, user, article, Action.PUBLISH, {"$set": {
        "status": Status.PUBLISHED.value, "publishedAt": now, "updatedAt": now,
    }})
    return await view(resources, saved)


async def remove_article(resources: Resources, user: Principal, slug: str) -> None:
    """Soft removal: kept, hidden from all but admins, restorable to its former status."""
    article = await authorized(resources, user, slug, Action.REMOVE)
    if article.status == Status.REMOVED:
        return
    now = mongo_now()
    await write(resources, user, article, Action.REMOVE, {"$set": {
        "status": Status.REMOVED.value, "statusBeforeRemoval": article.status.value,
        "removedAt": now, "removedBy": user.id, "updatedAt": now,
    }})


async def restore_article(resources: Resources, user: Principal, slug: str) -> ArticleView:
    article = await authorized(resources, user, slug, Action.RESTORE)
    if article.status != Status.REMOVED:
        raise Conflict(f"Only a removed article can be restored; this one is {article.status}.")
    saved = await write(resources, user, article, Action.RESTORE, {
        "$set": {"status": (article.status_before_removal or Status.DRAFT).value,
                 "updatedAt": mongo_now()},
        "$unset": {"statusBeforeRemoval": "", "removedAt": "", "removedBy": ""},
    })
    return await view(resources, saved)


def either_writer(user_id: str) -> dict[str, Any]:
    return {"$or": [{"authorId": user_id}, {"coAuthorIds": user_id}]}


async def list_articles(
    resources: Resources, user: Principal | None, *, author: str | None = None,
    tag: str | None = None, mine: bool = False, page: int = 1, page_size: int = 20,
) -> ArticlePage:
    """Published articles, newest first; with `mine`, the caller's drafts and published
    articles, last edited first. People come from PostgreSQL in one query per page."""
    conditions: list[dict[str, Any]] = []
    if mine:
        if user is None:
            raise Unauthorized("Sign in to list your own articles.")
        conditions += [either_writer(user.id),
                       {"status": {"$in": [Status.DRAFT.value, Status.PUBLISHED.value]}}]
        sort = [("updatedAt", -1), ("_id", -1)]
    else:
        conditions.append({"status": Status.PUBLISHED.value})
        sort = [("publishedAt", -1), ("_id", -1)]
    if author:
        person = await people.person_by_screenname(resources, author)
        if person is None:
            return ArticlePage(items=[], page=page, has_more=False)
        conditions.append(either_writer(person.id))
    if tag:
        conditions.append({"tags": normalize_label(tag)})
    query = conditions[0] if len(conditions) == 1 else {"$and": conditions}
    found = await repository.find_page(
        resources.mongo, query, sort, skip=(page - 1) * page_size, limit=page_size + 1
    )
    shown = found[:page_size]
    known = await people.people_by_id(resources, (i for doc in shown for i in writers(doc)))
    return ArticlePage(items=[present(doc, known, ArticleSummary) for doc in shown],
                       page=page, has_more=len(found) > page_size)
