"""Members liking articles. Articles live in MongoDB: the articles domain checks who may see
one and passes it here as a `LikedArticle`."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.dependencies import Principal
from panamia.notifications import service as notifications
from panamia.notifications.schemas import ActivityObject, Like
from panamia.resources import Resources
from panamia.social.models import ArticleLike
from panamia.social.schemas import LikeCounts


@dataclass(frozen=True)
class LikedArticle:
    id: str  # its MongoDB id
    slug: str
    title: str
    writers: frozenset[str]  # author and co-authors, who are told of a like


async def counts(session: AsyncSession, article_id: str, viewer_id: str | None) -> LikeCounts:
    row = (await session.execute(select(
        select(func.count()).where(ArticleLike.article_id == article_id).scalar_subquery(),
        select(func.count()).where(ArticleLike.article_id == article_id,
                                   ArticleLike.user_id == viewer_id).scalar_subquery(),
    ))).one()
    return LikeCounts(likes=row[0], liked_by_you=row[1] > 0)


async def like_counts(resources: Resources, article_id: str,
                      viewer: Principal | None) -> LikeCounts:
    async with resources.reads() as session:
        return await counts(session, article_id, viewer.id if viewer else None)


_COUNTS = (select(ArticleLike.article_id, func.count())
           .where(ArticleLike.article_id == any_(bindparam("ids", type_=ARRAY(String))))
           .group_by(ArticleLike.article_id))


async def likes_by_article(resources: Resources, article_ids: Iterable[str]) -> dict[str, int]:
    """How many likes each article of a page has (those without any are left out)."""
    wanted = list(dict.fromkeys(article_ids))
    if not wanted:
        return {}
    async with resources.reads() as session:
        return {row[0]: row[1] for row in await session.execute(_COUNTS, {"ids": wanted})}


async def like(resources: Resources, user: Principal, article: LikedArticle) -> LikeCounts:
    """Liking twice is one like. The writers hear of it, but not of their own likes."""
    added = (insert(ArticleLike).values(article_id=article.id, user_id=user.id)
             .on_conflict_do_nothing().returning(ArticleLike.user_id))
    async with resources.db.begin() as session:
        if (await session.execute(added)).scalar_one_or_none() is not None:
            for writer in sorted(article.writers - {user.id}):
                await notifications.notify(session, Like(
                    actor_id=user.id, target_id=writer,
                    object=ActivityObject(type="Article", id=article.slug,
                                          url=f"/articles/{article.slug}",
                                          summary=article.title),
                ))
        return await counts(session, article.id, user.id)


async def unlike(resources: Resources, user: Principal, article: LikedArticle) -> LikeCounts:
    async with resources.db.begin() as session:
        await session.execute(delete(ArticleLike).where(ArticleLike.article_id == article.id,
                                                        ArticleLike.user_id == user.id))
        return await counts(session, article.id, user.id)


async def forget_article(session: AsyncSession, article_id: str) -> None:
    """An article removed takes its likes with it."""
    await session.execute(delete(ArticleLike).where(ArticleLike.article_id == article_id))
