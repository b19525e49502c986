"""Deleting one's own account: the PostgreSQL user now, their MongoDB content via the outbox."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import violation
from panamia.errors import Conflict, NotFound, responses
from panamia.identity import cookies, csrf
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.identity.models import User
from panamia.outbox import service as outbox_service
from panamia.resources import Resources, ResourcesDep
from panamia.schemas import Schema
from panamia.settings import Settings

router = APIRouter(prefix="/api", tags=["identity"])
FOREIGN_KEY_VIOLATION = "23503"
# The trigger of migration 20261125042617 refuses while pet-sitting bookings are active.
ACTIVE_BOOKINGS = "users_keep_active_bookings"
# The trigger of migration 20261206082541 refuses while a sidecar holds money or a deal of
# theirs; its message names what, in words for the member.
MONEY_IN_FLIGHT = "users_keep_money_in_flight"
# Run in the deletion's transaction, before the user row goes, with (session, settings,
# user id): federation, which sits above identity, registers here to tell other servers.
DELETION_HOOKS: list[Callable[[AsyncSession, Settings, str], Awaitable[None]]] = []


@dataclass(frozen=True)
class BlockerQuery:
    """How to find what of a service keeps a member's account from being deleted (its
    triggers refuse the deletion): `select` gives rows of (what, path) for `:user_id`, each
    thing in the member's words and the page at `base_url` + path that shows it."""

    base_url: str
    select: str


class Blocker(Schema):
    what: str
    url: str


def blocker_queries(request: Request) -> Sequence[BlockerQuery]:
    """The app's queries (`app.state.deletion_blockers`, set by the app factory)."""
    return getattr(request.app.state, "deletion_blockers", ())


BlockerQueries = Annotated[Sequence[BlockerQuery], Depends(blocker_queries)]


async def blockers(resources: Resources, queries: Sequence[BlockerQuery],
                   user_id: str) -> list[Blocker]:
    """Everything that keeps `user_id`'s account from being deleted, with a link to each."""
    found = []
    async with resources.reads() as db:
        for query in queries:
            rows = await db.execute(text(query.select), {"user_id": user_id})
            found += [Blocker(what=what, url=query.base_url.rstrip("/") + path)
                      for what, path in rows]
    return found


class AccountKept(Conflict):
    """A deletion refused by the database, with what blocks it."""

    def __init__(self, reason: str, found: list[Blocker], *, error: str):
        listed = "".join(f" {b.what}: {b.url}." for b in found)
        super().__init__(reason + listed, error=error)
        self.reason = reason
        self.blockers = found


async def hold_account(session: AsyncSession, user_id: str) -> bool:
    """Keep the account from being deleted until `session`'s transaction ends; False if it
    is gone already.

    The `users` row is locked FOR KEY SHARE, which only a deletion (or a change of `id`)
    waits for. A write to MongoDB for this user, made while the hold lasts, is therefore
    done before the deletion commits, and so before its `user.deleted` event runs and
    removes it; after the deletion, this returns False and nothing is written.
    """
    held = await session.execute(
        select(User.id).where(User.id == user_id).with_for_update(read=True, key_share=True)
    )
    return held.first() is not None


async def delete_account(resources: Resources, user_id: str,
                         blocking: Sequence[BlockerQuery] = ()) -> None:
    """One transaction: the user row (accounts and sessions cascade) and a `user.deleted`
    event, which the relay turns into deleting what the reference map says goes with them.
    Refused (`AccountKept`) while a trigger keeps the user; `blocking` finds what for."""
    try:
        async with resources.db.begin() as db:
            for hook in DELETION_HOOKS:
                await hook(db, resources.settings, user_id)
            deleted = (await db.execute(
                delete(User).where(User.id == user_id).returning(User.id)
            )).scalar_one_or_none()
            if deleted is None:
                raise NotFound("This account no longer exists.")
            await outbox_service.enqueue(db, outbox_service.USER_DELETED, {"userId": user_id})
    except IntegrityError as exc:
        if violation(exc) == (FOREIGN_KEY_VIOLATION, ACTIVE_BOOKINGS):
            reason, error = (
                "You have pending or confirmed pet-sitting bookings. Cancel them, or let them "
                "finish, before deleting your account.", "active bookings")
        elif violation(exc) == (FOREIGN_KEY_VIOLATION, MONEY_IN_FLIGHT):
            reason, error = exc.orig.__cause__.message, "money in flight"
        else:
            raise
        found = await blockers(resources, blocking, user_id)
        raise AccountKept(reason, found, error=error) from exc


@router.get("/account/blockers", response_model=list[Blocker],
            summary="What keeps your account from being deleted", responses=SIGNED_IN)
async def get_blockers(user: CurrentUser, resources: ResourcesDep,
                       queries: BlockerQueries) -> list[Blocker]:
    """Each pet-sitting booking (or other deal a sidecar declares) that must end first, with
    the address of the page that shows it; empty when nothing does."""
    return await blockers(resources, queries, user.id)


@router.delete(
    "/account", status_code=204, response_class=Response,
    responses=SIGNED_IN | csrf.CHECKED
    | responses((Conflict, "Pet-sitting bookings, or money or deals in a sidecar, are still "
                           "active: the detail names each with its address")),
)
async def delete_my_account(
    user: CurrentUser, resources: ResourcesDep, queries: BlockerQueries
) -> Response:
    """Delete the signed-in user everywhere and sign them out.

    Sign-in methods and sessions go at once, and with them listings, follows and likes; the
    profile, photos and notifications leave MongoDB shortly after (through the outbox);
    articles stay and show as by a deleted user.
    """
    await delete_account(resources, user.id, queries)
    response = Response(status_code=204)
    cookies.clear_session_cookies(
        response, resources.settings, cookies.readable_session_cookie_names(resources.settings)
    )
    return response
