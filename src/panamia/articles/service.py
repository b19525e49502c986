"""Article use cases. Each mutation reads the article, checks who may do it, then writes
with one conditional update that fails (409) if the article changed in between."""

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import DuplicateKeyError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.articles import repository
from panamia.articles.co_authors import (
    Naming,
    check_invitees,
    name_co_authors,
    send_invitations,
)
from panamia.articles.documents import ArticleDocument, Status, slugify, with_suffix
from panamia.articles.permissions import (
    REFUSALS,
    Action,
    can_see,
    is_invited,
    may,
    only_as_co_author,
    roles,
)
from panamia.articles.schemas import (
    ArticleCreate,
    ArticlePage,
    ArticlePatch,
    ArticleSummary,
    ArticleView,
)
from panamia.errors import Conflict, Forbidden, NotFound, Unauthorized
from panamia.fields import mongo_now, normalize_label
from panamia.identity import people
from panamia.identity.dependencies import Principal
from panamia.resources import Resources
from panamia.settings import Settings
from panamia.social import likes

SLUG_ATTEMPTS = 5
PUBLISHED, EDITED, WITHDRAWN = "published", "edited", "withdrawn"
# Run in the PostgreSQL transaction of each publish, edit of a published article, and
# unpublish or removal of one, with (session, settings, article, change): federation, which
# sits above articles, registers here to tell other servers.
CHANGE_HOOKS: list[Callable[[AsyncSession, Settings, dict[str, Any], str], Awaitable[None]]] = []
MAX_PAGE_SIZE = 100


async def announce(db: AsyncSession, resources: Resources, article: dict[str, Any],
                   change: str) -> None:
    for hook in CHANGE_HOOKS:
        await hook(db, resources.settings, article, change)


def writers(document: dict[str, Any]) -> list[str]:
    return [document["authorId"], *document.get("coAuthorIds", [])]


def present(
    document: dict[str, Any], known: dict, model: type[ArticleSummary],
    like_counts: dict[str, int],
) -> ArticleSummary:
    return model.model_validate({
        **document,
        "author": people.person_or_deleted(known, document["authorId"]),
        "coAuthors": [people.person_or_deleted(known, i) for i in document.get("coAuthorIds", [])],
        "likes": like_counts.get(str(document.get("_id")), 0),
    })


def invitations_shown(document: dict[str, Any], viewer: Principal | None) -> list[str]:
    """Pending invitations: all of them to the article's writers and admins, only their own
    to someone invited, none to anyone else."""
    article = ArticleDocument.model_validate(document)
    if roles(article, viewer):
        return article.invited_co_author_ids
    return [viewer.id] if is_invited(article, viewer) else []


async def view(
    resources: Resources, document: dict[str, Any], viewer: Principal | None
) -> ArticleView:
    """The article with its people; invitations to users since deleted are left out."""
    invited = invitations_shown(document, viewer)
    known = await people.people_by_id(resources, [*writers(document), *invited])
    shown = present(document, known, ArticleView, {})
    if document.get("_id"):  # a draft just written is shown without
        counted = await likes.like_counts(resources, str(document["_id"]), viewer)
        shown.likes, shown.liked_by_you = counted.likes, counted.liked_by_you
    shown.invited_co_authors = [known[i] for i in invited if i in known]
    return shown


async def insert_with_free_slug(
    resources: Resources, document: dict[str, Any], given: str | None
) -> str:
    """A slug given is used as is (409 if taken); a slug derived from the title gets a short
    random suffix when taken."""
    base = given or slugify(document["title"])
    slug = base
    for _ in range(SLUG_ATTEMPTS):
        try:
            await repository.insert(resources.mongo, {**document, "slug": slug})
        except DuplicateKeyError:
            if given:
                raise Conflict(f"The slug {slug!r} is taken: choose another, or leave it out "
                               "to derive one from the title.", error="slug taken") from None
            slug = with_suffix(base)
            continue
        return slug
    raise Conflict("No free slug was found for this title; give a slug.", error="slug taken")


async def create_article(
    resources: Resources, user: Principal, draft: ArticleCreate
) -> ArticleView:
    """A draft by `user`; everyone in `coAuthorIds` is invited to co-author it."""
    naming = name_co_authors(None, draft.co_author_ids)
    now = mongo_now()
    document = {
        **draft.model_dump(by_alias=True, exclude={"slug", "co_author_ids"}),
        **naming.fields(), "authorId": user.id, "status": Status.DRAFT.value,
        "publishedAt": None, "createdAt": now, "updatedAt": now,
    }
    async with resources.db.begin() as db:
        await check_invitees(db, user.id, naming.newly_invited)
        slug = await insert_with_free_slug(resources, document, draft.slug)
        await send_invitations(db, user, slug, draft.title, naming.newly_invited)
    return await view(resources, {**document, "slug": slug}, user)


async def visible(resources: Resources, user: Principal | None, slug: str) -> ArticleDocument:
    found = await repository.find_by_slug(resources.mongo, slug)
    article = ArticleDocument.model_validate(found) if found else None
    if article is None or not can_see(article, user):
        raise NotFound(f"No article {slug!r}.", error="article not found")
    return article


async def get_article(resources: Resources, user: Principal | None, slug: str) -> ArticleView:
    article = await visible(resources, user, slug)
    return await view(resources, article.model_dump(by_alias=True), user)


async def read_article(
    resources: Resources, user: Principal | None, slug: str
) -> tuple[ArticleView, frozenset[Action]]:
    """The article and what `user` may do with it, for pages that offer only those buttons."""
    article = await visible(resources, user, slug)
    allowed = frozenset(a for a in Action if user is not None and may(article, user, a))
    return await view(resources, article.model_dump(by_alias=True), user), allowed


async def authorized(
    resources: Resources, user: Principal, slug: str, action: Action
) -> ArticleDocument:
    article = await visible(resources, user, slug)
    if not may(article, user, action):
        raise Forbidden(REFUSALS[action])
    return article


def exactly(field: str, values: list[str]) -> dict[str, Any]:
    """A condition that `field` holds `values`, in order; an empty list also matches a
    document without the field."""
    return {field: values} if values else {f"{field}.0": {"$exists": False}}


async def write(
    resources: Resources, user: Principal, article: ArticleDocument, action: Action,
    update: dict[str, Any], *, same_people: bool = False,
) -> dict[str, Any]:
    """Apply `update` only if the article is as it was read and `user` still holds the role
    (and, with `same_people`, no one accepted, declined or left meanwhile)."""
    query: dict[str, Any] = {"slug": article.slug, "status": article.status.value}
    if only_as_co_author(article, user, action):
        query["coAuthorIds"] = user.id
    if same_people:
        query["$and"] = [exactly("coAuthorIds", article.co_author_ids),
                         exactly("invitedCoAuthorIds", article.invited_co_author_ids)]
    saved = await repository.update_where(resources.mongo, query, update)
    if saved is None:
        raise Conflict("The article changed meanwhile; reload it and try again.")
    return saved


async def update_article(
    resources: Resources, user: Principal, slug: str, patch: ArticlePatch
) -> ArticleView:
    """Naming `coAuthorIds` invites whoever is new and drops whoever is left out."""
    article = await authorized(resources, user, slug, Action.EDIT)
    naming: Naming | None = None
    if patch.co_author_ids is not None:
        if not may(article, user, Action.EDIT_CO_AUTHORS):
            raise Forbidden(REFUSALS[Action.EDIT_CO_AUTHORS])
        naming = name_co_authors(article, patch.co_author_ids)
    changes = patch.model_dump(by_alias=True, include=patch.model_fields_set - {"co_author_ids"})
    async with resources.db.begin() as db:
        if naming:
            await check_invitees(db, article.author_id, naming.newly_invited)
            changes |= naming.fields()
        saved = await write(resources, user, article, Action.EDIT,
                            {"$set": {**changes, "updatedAt": mongo_now()}},
                            same_people=naming is not None)
        if naming:
            await send_invitations(db, user, slug, saved["title"], naming.newly_invited)
        if article.status == Status.PUBLISHED:
            await announce(db, resources, saved, EDITED)
    return await view(resources, saved, user)


async def publish_article(resources: Resources, user: Principal, slug: str) -> ArticleView:
    """Publishing a published article changes nothing."""
    article = await authorized(resources, user, slug, Action.PUBLISH)
    if article.status == Status.REMOVED:
        raise Conflict("A removed article must be restored by an admin first.")
    if article.status == Status.PUBLISHED:
        return await view(resources, article.model_dump(by_alias=True), user)
    now = mongo_now()
    async with resources.db.begin() as db:
        saved = await write(resources, user, article, Action.PUBLISH, {"$set": {
            "status": Status.PUBLISHED.value, "publishedAt": now, "updatedAt": now,
        }})
        await announce(db, resources, saved, PUBLISHED)
    return await view(resources, saved, user)


async def unpublish_article(resources: Resources, user: Principal, slug: str) -> ArticleView:
    """Back to a draft: gone from lists and hidden from all but its writers (and admins);
    its likes stay for when it is published again. Unpublishing a draft changes nothing."""
    article = await authorized(resources, user, slug, Action.PUBLISH)
    if article.status == Status.REMOVED:
        raise Conflict("A removed article must be restored by an admin first.")
    if article.status == Status.DRAFT:
        return await view(resources, article.model_dump(by_alias=True), user)
    async with resources.db.begin() as db:
        saved = await write(resources, user, article, Action.PUBLISH, {"$set": {
            "status": Status.DRAFT.value, "publishedAt": None, "updatedAt": mongo_now(),
        }})
        await announce(db, resources, saved, WITHDRAWN)
    return await view(resources, saved, user)


async def remove_article(resources: Resources, user: Principal, slug: str) -> None:
    """Soft removal: kept, hidden from all but admins, restorable to its former status.
    Its likes go (in the same PostgreSQL transaction, rolled back if the removal fails)."""
    article = await authorized(resources, user, slug, Action.REMOVE)
    if article.status == Status.REMOVED:
        return
    now = mongo_now()
    async with resources.db.begin() as db:
        await likes.forget_article(db, article.id)
        saved = await write(resources, user, article, Action.REMOVE, {"$set": {
            "status": Status.REMOVED.value, "statusBeforeRemoval": article.status.value,
            "removedAt": now, "removedBy": user.id, "updatedAt": now,
        }})
        if article.status == Status.PUBLISHED:
            await announce(db, resources, saved, WITHDRAWN)


async def restore_article(resources: Resources, user: Principal, slug: str) -> ArticleView:
    article = await authorized(resources, user, slug, Action.RESTORE)
    if article.status != Status.REMOVED:
        raise Conflict(f"Only a removed article can be restored; this one is {article.status}.")
    async with resources.db.begin() as db:
        saved = await write(resources, user, article, Action.RESTORE, {
            "$set": {"status": (article.status_before_removal or Status.DRAFT).value,
                     "updatedAt": mongo_now()},
            "$unset": {"statusBeforeRemoval": "", "removedAt": "", "removedBy": ""},
        })
        if saved["status"] == Status.PUBLISHED.value:
            await announce(db, resources, saved, PUBLISHED)
    return await view(resources, saved, user)


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
    like_counts = await likes.likes_by_article(resources, (str(doc["_id"]) for doc in shown))
    return ArticlePage(items=[present(doc, known, ArticleSummary, like_counts) for doc in shown],
                       page=page, has_more=len(found) > page_size)
