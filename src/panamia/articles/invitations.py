"""Answering an invitation to co-author an article, and leaving one: the invited person's
own use cases. Who is invited, and the notices, are in `articles/co_authors.py`."""

from panamia.articles import repository, service
from panamia.articles.co_authors import answer_invitation
from panamia.articles.documents import ArticleDocument
from panamia.articles.permissions import is_invited
from panamia.articles.schemas import ArticleView
from panamia.errors import Conflict
from panamia.identity.dependencies import Principal
from panamia.resources import Resources


def not_invited() -> Conflict:
    return Conflict("You have no invitation to co-author this article.", error="not invited")


async def accept_invitation(resources: Resources, user: Principal, slug: str) -> ArticleView:
    """Become a co-author. Accepting again changes nothing."""
    article = await service.visible(resources, user, slug)
    if user.id in article.co_author_ids:
        return await service.view(resources, article.model_dump(by_alias=True), user)
    if not is_invited(article, user):
        raise not_invited()
    async with resources.db.begin() as db:
        await answer_invitation(db, user, article, accepted=True)
        saved = await repository.update_where(
            resources.mongo, {"slug": slug, "invitedCoAuthorIds": user.id},
            {"$pull": {"invitedCoAuthorIds": user.id}, "$addToSet": {"coAuthorIds": user.id}},
        )
        if saved is None:
            raise Conflict("The invitation was withdrawn meanwhile.", error="not invited")
    return await service.view(resources, saved, user)


async def listed_in(
    resources: Resources, user: Principal, slug: str, field: str, refusal: Conflict
) -> ArticleDocument:
    """The article, whatever its status, when `user` is in its `field`; otherwise 404 if they
    cannot see it, else `refusal`."""
    found = await repository.find_by_slug(resources.mongo, slug)
    article = ArticleDocument.model_validate(found) if found else None
    if article is None or user.id not in getattr(article, field):
        await service.visible(resources, user, slug)
        raise refusal
    return article


async def take_out(resources: Resources, user: Principal, slug: str, field: str) -> None:
    taken = await repository.update_where(
        resources.mongo, {"slug": slug, field: user.id}, {"$pull": {field: user.id}}
    )
    if taken is None:
        raise Conflict("The article changed meanwhile; reload it and try again.")


async def decline_invitation(resources: Resources, user: Principal, slug: str) -> None:
    article = await listed_in(resources, user, slug, "invited_co_author_ids", not_invited())
    async with resources.db.begin() as db:
        await answer_invitation(db, user, article, accepted=False)
        await take_out(resources, user, slug, "invitedCoAuthorIds")


async def leave_article(resources: Resources, user: Principal, slug: str) -> None:
    """A co-author stops being one, at any time and whatever the article's status."""
    await listed_in(resources, user, slug, "co_author_ids", Conflict(
        "You are not a co-author of this article.", error="not a co-author"))
    await take_out(resources, user, slug, "coAuthorIds")
