"""What every service imports to know who is asking: `CurrentUser`, `OptionalUser`, `AdminUser`.

A sidecar needs nothing else from identity: the shared cookie is checked against the
`sessions` table in one round trip (plus, at most once an hour, a write that records the
session's last use and slides its expiry when that is due).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, and_, bindparam, delete, select, update

from panamia.db.driver import DriverStatement, read_first
from panamia.errors import Forbidden, Unauthorized, responses
from panamia.identity import cookies
from panamia.identity.models import Session, User
from panamia.identity.tokens import session_token_hash
from panamia.resources import Resources
from panamia.settings import Settings

SESSION_MAX_AGE = timedelta(days=30)
SESSION_UPDATE_AGE = timedelta(days=1)
# How stale a session's `last_seen_at` may get before a request writes it again.
LAST_SEEN_GRANULARITY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    email: str
    name: str | None
    image: str | None
    screenname: str | None
    role: str
    is_admin: bool
    session_id: str
    expires: datetime


# Built once, on the tables rather than the mapped classes, and sent straight to the driver:
# the request's one round trip, with no transaction around it.
_sessions, _users = Session.__table__, User.__table__
_SESSION_USER = DriverStatement(
    select(
        _sessions.c.id, _sessions.c.expires, _sessions.c.created_at, _sessions.c.last_seen_at,
        _users.c.id, _users.c.email, _users.c.name, _users.c.image, _users.c.screenname,
        _users.c.role,
    )
    .join_from(_sessions, _users, _users.c.id == _sessions.c.user_id)
    .where(_sessions.c.session_token == bindparam("token_hash"))
)


def absolute_end(created_at: datetime, settings: Settings) -> datetime:
    """When a session started at `created_at` ends however often it is used."""
    return created_at + timedelta(days=settings.session_absolute_days)


def in_force(now: datetime, settings: Settings) -> ColumnElement[bool]:
    """The sessions that still sign someone in at `now`: before their sliding expiry and
    their absolute end. The same rule as the cookie check's, for queries over many rows."""
    return and_(Session.expires > now,
                Session.created_at > now - timedelta(days=settings.session_absolute_days))


def renewed_expiry(expires: datetime, ends: datetime, now: datetime) -> datetime | None:
    """The expiry to store when it changes: slid forward once a slide is due (as Auth.js, a
    day after the last one), and never past the absolute end, even when a Next.js app slid it
    there; None when it stays."""
    slide_due = expires - SESSION_MAX_AGE + SESSION_UPDATE_AGE <= now
    renewed = min(now + SESSION_MAX_AGE if slide_due else expires, ends)
    return renewed if renewed != expires else None


def session_cookie(request: Request, resources: Resources) -> str | None:
    for name in cookies.readable_session_cookie_names(resources.settings):
        if value := request.cookies.get(name):
            return value
    return None


async def resolve_principal(request: Request, resources: Resources) -> Principal | None:
    if "principal" in request.scope.get("state", {}):
        return request.state.principal
    request.state.principal = principal = await _load_principal(request, resources)
    return principal


async def _load_principal(request: Request, resources: Resources) -> Principal | None:
    raw = session_cookie(request, resources)
    if not raw:
        return None
    settings = resources.settings
    token_hash = session_token_hash(raw, settings.secret)
    row = await read_first(resources.reads, _SESSION_USER, token_hash=token_hash)
    if row is None:
        return None
    (session_id, expires, created_at, last_seen_at,
     user_id, email, name, image, screenname, role) = row
    now = datetime.now(UTC)
    ends = absolute_end(created_at, settings)
    if min(expires, ends) <= now:
        async with resources.reads.begin() as db:
            await db.execute(delete(Session).where(Session.id == session_id))
        return None
    renewed = renewed_expiry(expires, ends, now)
    if renewed or last_seen_at is None or last_seen_at <= now - LAST_SEEN_GRANULARITY:
        async with resources.reads.begin() as db:
            await db.execute(update(Session).where(Session.id == session_id)
                             .values(last_seen_at=now, expires=renewed or expires))
    if renewed:
        expires = renewed
        request.state.set_session_cookie = cookies.session_cookie_header(
            settings, raw, expires
        )
    return Principal(
        id=user_id, email=email, name=name, image=image, screenname=screenname, role=role,
        is_admin=role == "admin" or email.lower() in settings.admin_email_set,
        session_id=session_id, expires=expires,
    )


# Only `Request` as a parameter: every dependency FastAPI solves costs each request, and the
# resources are the app's own (what `ResourcesDep` gives).
async def optional_user(request: Request) -> Principal | None:
    return await resolve_principal(request, request.app.state.resources)


async def current_user(request: Request) -> Principal:
    # Not layered on `optional_user`: one dependency fewer for FastAPI to solve per request.
    principal = await resolve_principal(request, request.app.state.resources)
    if principal is None:
        raise Unauthorized("Sign in first: this needs a valid session cookie.")
    return principal


async def admin_user(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only administrators may do this.")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
AdminUser = Annotated[Principal, Depends(admin_user)]
# The `responses=` of every route that needs `CurrentUser`.
SIGNED_IN = responses(Unauthorized)
