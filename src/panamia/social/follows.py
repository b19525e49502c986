"""Members following members. A local follow is accepted at once; only accepted follows
count, so the remote followers federation adds count the same way."""

from datetime import UTC, datetime

from sqlalchemy import delete, exists, false, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id, violation
from panamia.errors import Invalid
from panamia.identity.dependencies import Principal
from panamia.identity.schemas import Person
from panamia.notifications import service as notifications
from panamia.notifications.schemas import ActivityObject, Follow as FollowActivity
from panamia.resources import Resources
from panamia.social.models import ACCEPTED, Follow
from panamia.social.schemas import FollowCounts

CHECK_VIOLATION = "23514"
NOT_ONESELF = "ck_follows_not_oneself"
UNIQUE_PAIR = "follows_follower_id_followed_id_key"


async def counts(session: AsyncSession, member_id: str, viewer_id: str | None) -> FollowCounts:
    followers = select(func.count()).where(Follow.followed_id == member_id,
                                           Follow.state == ACCEPTED)
    following = select(func.count()).where(Follow.follower_id == member_id,
                                           Follow.state == ACCEPTED)
    followed_by_viewer = exists().where(Follow.follower_id == viewer_id,
                                        Follow.followed_id == member_id) if viewer_id else false()
    row = (await session.execute(select(
        followers.scalar_subquery(), following.scalar_subquery(), followed_by_viewer,
    ))).one()
    return FollowCounts(followers=row[0], following=row[1], followed_by_you=row[2])


async def follow_counts(resources: Resources, member_id: str,
                        viewer: Principal | None) -> FollowCounts:
    async with resources.reads() as session:
        return await counts(session, member_id, viewer.id if viewer else None)


async def follow(resources: Resources, follower: Principal, followed: Person) -> FollowCounts:
    """Following someone already followed changes nothing and tells them nothing again.
    The time is the clock's, not the transaction's, so that lists keep the order of follows."""
    now = datetime.now(UTC)
    added = (insert(Follow)
             .values(id=new_id(), follower_id=follower.id, followed_id=followed.id,
                     state=ACCEPTED, created_at=now, accepted_at=now)
             .on_conflict_do_nothing(constraint=UNIQUE_PAIR)
             .returning(Follow.id))
    try:
        async with resources.db.begin() as session:
            if (await session.execute(added)).scalar_one_or_none() is not None:
                await notifications.notify(session, FollowActivity(
                    actor_id=follower.id, target_id=followed.id,
                    object=ActivityObject(type="Person", id=followed.id,
                                          url=f"/people/{follower.screenname}"
                                          if follower.screenname else None),
                ))
            return await counts(session, followed.id, follower.id)
    except IntegrityError as exc:
        if violation(exc) == (CHECK_VIOLATION, NOT_ONESELF):
            raise Invalid("You cannot follow yourself.") from None
        raise


async def unfollow(resources: Resources, follower: Principal, followed: Person) -> FollowCounts:
    """Unfollowing someone not followed changes nothing."""
    async with resources.db.begin() as session:
        await session.execute(delete(Follow).where(
            Follow.follower_id == follower.id, Follow.followed_id == followed.id))
        return await counts(session, followed.id, follower.id)


async def _page_of_ids(resources: Resources, column, condition, *, page: int,
                       page_size: int) -> tuple[list[str], bool]:
    query = (select(column).where(condition, column.is_not(None), Follow.state == ACCEPTED)
             .order_by(Follow.created_at.desc(), Follow.id.desc())
             .offset((page - 1) * page_size).limit(page_size + 1))
    async with resources.reads() as session:
        ids = list((await session.execute(query)).scalars())
    return ids[:page_size], len(ids) > page_size


async def follower_ids(resources: Resources, member_id: str, *, page: int,
                       page_size: int) -> tuple[list[str], bool]:
    """A page of the members following `member_id`, most recent first, and whether more follow."""
    return await _page_of_ids(resources, Follow.follower_id, Follow.followed_id == member_id,
                              page=page, page_size=page_size)


async def followed_ids(resources: Resources, member_id: str, *, page: int,
                       page_size: int) -> tuple[list[str], bool]:
    """A page of the members `member_id` follows, most recent first, and whether more follow."""
    return await _page_of_ids(resources, Follow.followed_id, Follow.follower_id == member_id,
                              page=page, page_size=page_size)
