"""Deleting one's own account: the PostgreSQL user now, their MongoDB content via the outbox."""


from fastapi import APIRouter, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import violation
from panamia.errors import Conflict, NotFound, responses
from panamia.identity import cookies, csrf
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.identity.models import User
from panamia.outbox import service as outbox_service
from panamia.resources import Resources, ResourcesDep

router = APIRouter(prefix="/api", tags=["identity"])
FOREIGN_KEY_VIOLATION = "23503"
# The trigger of migration 20261125042617 refuses while pet-sitting bookings are active.
ACTIVE_BOOKINGS = "users_keep_active_bookings"
# The trigger of migration 20261206082541 refuses while a sidecar holds money or a deal of
# theirs; its message names what, in words for the member.
MONEY_IN_FLIGHT = "users_keep_money_in_flight"


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


async def delete_account(resources: Resources, user_id: str) -> None:
    """One transaction: the user row (accounts and sessions cascade) and a `user.deleted`
    event, which the relay turns into deleting what the reference map says goes with them."""
    try:
        async with resources.db.begin() as db:
            deleted = (await db.execute(
                delete(User).where(User.id == user_id).returning(User.id)
            )).scalar_one_or_none()
            if deleted is None:
                raise NotFound("This account no longer exists.")
            await outbox_service.enqueue(db, outbox_service.USER_DELETED, {"userId": user_id})
    except IntegrityError as exc:
        if violation(exc) == (FOREIGN_KEY_VIOLATION, ACTIVE_BOOKINGS):
            raise Conflict(
                "You have pending or confirmed pet-sitting bookings. Cancel them, or let them "
                "finish, before deleting your account.",
                error="active bookings",
            ) from exc
        if violation(exc) == (FOREIGN_KEY_VIOLATION, MONEY_IN_FLIGHT):
            raise Conflict(exc.orig.__cause__.message, error="money in flight") from exc
        raise


@router.delete(
    "/account", status_code=204, response_class=Response,
    responses=SIGNED_IN | csrf.CHECKED
    | responses((Conflict, "Pet-sitting bookings, or money or deals in a sidecar, are still "
                           "active")),
)
async def delete_my_account(
    user: CurrentUser, resources: ResourcesDep
) -> Response:
    """Delete the signed-in user everywhere and sign them out.

    Sign-in methods and sessions go at once; the profile and notifications leave MongoDB
    shortly after (through the outbox); articles stay and show as by a deleted user.
    """
    await delete_account(resources, user.id)
    response = Response(status_code=204)
    cookies.clear_session_cookies(
        response, resources.settings, cookies.readable_session_cookie_names(resources.settings)
    )
    return response
