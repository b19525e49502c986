"""People as content shows them, read from PostgreSQL in one statement per page."""

from collections.abc import Iterable

from sqlalchemy import String, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from panamia.identity.models import User
from panamia.identity.schemas import Person
from panamia.resources import Resources

DELETED_NAME = "Deleted user"

_BY_IDS = select(User.id, User.screenname, User.name).where(
    User.id == any_(bindparam("ids", type_=ARRAY(String)))
)


async def people_by_id(resources: Resources, ids: Iterable[str]) -> dict[str, Person]:
    """Everyone of `ids` who still has an account: `WHERE id = ANY(:ids)`, one round trip."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    async with resources.reads() as db:
        rows = (await db.execute(_BY_IDS, {"ids": wanted})).all()
    return {row.id: Person(id=row.id, screenname=row.screenname, name=row.name) for row in rows}


async def set_name(resources: Resources, user_id: str, name: str | None) -> None:
    """The name everyone sees on `user_id`'s articles, bookings, messages and notifications:
    the one they give their profile, kept on the account where those pages read it."""
    async with resources.db.begin() as db:
        await db.execute(update(User).where(User.id == user_id).values(name=name))


def person_or_deleted(people: dict[str, Person], user_id: str) -> Person:
    return people.get(user_id) or Person(id=user_id, screenname=None, name=DELETED_NAME)


async def person_by_screenname(resources: Resources, screenname: str) -> Person | None:
    async with resources.reads() as db:
        row = (await db.execute(
            select(User.id, User.screenname, User.name)
            .where(func.lower(User.screenname) == screenname.lower())
        )).first()
    return Person(id=row.id, screenname=row.screenname, name=row.name) if row else None


async def ids_by_screenname(resources: Resources, names: Iterable[str]) -> dict[str, str]:
    """`{screenname: user id}` for those of `names` (lower case) that someone holds: one
    statement on the `lower(screenname)` index."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    async with resources.reads() as db:
        rows = (await db.execute(
            select(func.lower(User.screenname), User.id)
            .where(func.lower(User.screenname) == any_(bindparam("names", type_=ARRAY(String)))),
            {"names": wanted},
        )).all()
    return dict(rows)
