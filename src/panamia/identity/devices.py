"""A person's signed-in devices (OWASP ASVS 3.3.3, 3.3.4): list them, sign one out, or sign
out every other one. A session is only ever named by its id, never by its token or hash."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import delete, select
from ua_parser import parse

from panamia import pages
from panamia.errors import NotFound, responses
from panamia.identity import cookies, csrf
from panamia.identity.dependencies import SIGNED_IN, CurrentUser, Principal, in_force
from panamia.identity.models import Session
from panamia.resources import Resources, ResourcesDep
from panamia.schemas import Schema

# Session ids are cuid2 (or, for rows a Next.js app made, cuid) strings.
SessionId = Annotated[str, Path(max_length=32, pattern="^[a-z0-9]+$")]
NO_SUCH_DEVICE = "You have no signed-in device with this id; it may be signed out already."


class SignedInDevice(Schema):
    id: str
    device: str
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime | None
    expires: datetime
    current: bool


class SignedOut(Schema):
    ended: int


def describe(user_agent: str | None) -> str:
    """"Firefox 128 on Windows", or what there is of it."""
    if not user_agent:
        return "Unknown device"
    found = parse(user_agent)
    browser = found.user_agent
    name = " ".join(filter(None, (browser.family, browser.major))) if browser else user_agent
    return f"{name} on {found.os.family}" if found.os else name


async def list_devices(resources: Resources, user: Principal) -> list[SignedInDevice]:
    """The sessions still valid, most recently used first."""
    now = datetime.now(UTC)
    async with resources.reads() as db:
        rows = (await db.execute(
            select(Session.id, Session.user_agent, Session.created_at, Session.last_seen_at,
                   Session.expires)
            .where(Session.user_id == user.id, in_force(now, resources.settings))
            .order_by(Session.last_seen_at.desc().nulls_last(), Session.created_at.desc())
        )).all()
    return [
        SignedInDevice(id=row.id, device=describe(row.user_agent), user_agent=row.user_agent,
                       created_at=row.created_at, last_seen_at=row.last_seen_at,
                       expires=row.expires, current=row.id == user.session_id)
        for row in rows
    ]


async def sign_out_device(resources: Resources, user_id: str, session_id: str) -> None:
    async with resources.db.begin() as db:
        ended = (await db.execute(
            delete(Session).where(Session.id == session_id, Session.user_id == user_id)
            .returning(Session.id)
        )).scalar_one_or_none()
    if ended is None:
        raise NotFound(NO_SUCH_DEVICE)


async def sign_out_everywhere(
    resources: Resources, user_id: str, except_session: str | None = None
) -> int:
    """End every session of `user_id` but the one with id `except_session`; how many ended.

    Whatever changes how a person signs in (a new email address, a provider unlinked) must
    call this, so that a device signed in the old way does not stay signed in."""
    async with resources.db.begin() as db:
        statement = delete(Session).where(Session.user_id == user_id)
        if except_session:
            statement = statement.where(Session.id != except_session)
        return (await db.execute(statement)).rowcount


def signed_out(response: Response, resources: Resources) -> Response:
    cookies.clear_session_cookies(
        response, resources.settings, cookies.readable_session_cookie_names(resources.settings)
    )
    return response


router = APIRouter(prefix="/api/account/sessions", tags=["identity"])


@router.get("", response_model=list[SignedInDevice], summary="Your signed-in devices",
            responses=SIGNED_IN)
async def my_devices(user: CurrentUser, resources: ResourcesDep) -> list[SignedInDevice]:
    """Every session of yours that is still valid, most recently used first; `current` marks
    the one making this request. `lastSeenAt` is exact to the hour."""
    return await list_devices(resources, user)


@router.delete(
    "/others", response_model=SignedOut, summary="Sign out every other device",
    responses=SIGNED_IN | csrf.CHECKED,
)
async def end_other_devices(user: CurrentUser, resources: ResourcesDep) -> SignedOut:
    """Ends all your sessions except this one."""
    return SignedOut(ended=await sign_out_everywhere(resources, user.id, user.session_id))


@router.delete(
    "/{session_id}", status_code=204, response_class=Response, summary="Sign out one device",
    responses=SIGNED_IN | csrf.CHECKED | responses((NotFound, "No session of yours has this id")),
)
async def end_device(session_id: SessionId, user: CurrentUser,
                     resources: ResourcesDep) -> Response:
    """Ends one of your sessions; ending this one signs you out here."""
    await sign_out_device(resources, user.id, session_id)
    response = Response(status_code=204)
    return signed_out(response, resources) if session_id == user.session_id else response


page_router = pages.page_router()


@page_router.get("/account/sessions")
async def devices_page(request: Request, user: CurrentUser):
    resources = pages.resources_of(request)
    return await pages.render(request, "account_sessions.html", title="Signed-in devices",
                              nav="account", devices=await list_devices(resources, user))


@page_router.post("/account/sessions/others/end")
async def end_other_devices_page(request: Request, user: CurrentUser):
    ended = await sign_out_everywhere(pages.resources_of(request), user.id, user.session_id)
    notice = (f"Signed out of {ended} other device{'s' if ended != 1 else ''}." if ended
              else "You were signed in on no other device.")
    return pages.redirect(request, "/account/sessions", notice=notice)


@page_router.post("/account/sessions/{session_id}/end")
async def end_device_page(request: Request, session_id: SessionId, user: CurrentUser):
    resources = pages.resources_of(request)
    await sign_out_device(resources, user.id, session_id)
    if session_id == user.session_id:
        return signed_out(pages.redirect(request, "/", notice="You are signed out."), resources)
    return pages.redirect(request, "/account/sessions", notice="That device is signed out.")
