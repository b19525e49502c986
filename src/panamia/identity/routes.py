"""Auth.js-shaped sign-in endpoints of the main app, and screennames."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Conflict, Invalid, NotFound, TooManyRequests, responses
from panamia.identity import cookies, ratelimit, service
from panamia.identity.dependencies import CurrentUser, OptionalUser, session_cookie
from panamia.identity.schemas import (
    CsrfToken,
    EmailSignIn,
    OutboxMail,
    ScreennameCheck,
    ScreennameUpdate,
    Sent,
    SessionInfo,
    SessionUser,
)
from panamia.identity.tokens import csrf_cookie_value, csrf_token_from_cookie, new_token
from panamia.mail import DevOutbox
from panamia.resources import Resources, ResourcesDep

router = APIRouter(prefix="/api", tags=["identity"])

FORM_OR_JSON = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": EmailSignIn.model_json_schema(by_alias=True)}
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    }
}


async def form_or_json(request: Request) -> dict:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
            raise RequestValidationError(
                [{"loc": ("body",), "msg": "Body is not valid JSON", "type": "json_invalid"}]
            ) from None
        return body if isinstance(body, dict) else {}
    return dict(await request.form())


@router.get("/auth/csrf", response_model=CsrfToken, summary="A CSRF token for the next POST")
async def csrf(request: Request, resources: ResourcesDep) -> JSONResponse:
    """Sets the signed double-submit cookie if it is missing; send the token back with every
    POST, PUT, PATCH or DELETE (header `X-CSRF-Token`, or `csrfToken` in a form or JSON body)."""
    settings = resources.settings
    token = csrf_token_from_cookie(
        request.cookies.get(cookies.csrf_cookie_name(settings)), settings.secret
    )
    if token is not None:
        return JSONResponse({"csrfToken": token})
    token = new_token()
    response = JSONResponse({"csrfToken": token})
    cookies.set_csrf_cookie(response, settings, csrf_cookie_value(token, settings.secret))
    return response


@router.post(
    "/auth/signin/email", response_model=Sent, openapi_extra=FORM_OR_JSON,
    summary="Mail a sign-in link",
    responses=responses((Invalid, "Malformed email"), (
        TooManyRequests, "Too many links asked for this address or from this client; "
                         "`Retry-After` says in how many seconds to retry")),
)
async def sign_in_with_email(request: Request, resources: ResourcesDep) -> Sent:
    """The answer is the same whether or not the address belongs to anyone."""
    try:
        body = EmailSignIn.model_validate(await form_or_json(request))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from None
    await service.request_email_sign_in(resources, body.email, body.callback_url,
                                        client=ratelimit.client_address(request))
    return Sent()


def asks_for_json_only(request: Request) -> bool:
    """Whether the client names JSON and not HTML in `Accept`. Browsers send text/html and
    mail scanners text/html or `*/*`; a bare `*/*` or no `Accept` is not asking for JSON."""
    accepted = {part.split(";")[0].strip().lower()
                for part in request.headers.get("accept", "").split(",")}
    return "application/json" in accepted and "text/html" not in accepted


async def use_sign_in_link(
    request: Request, resources: Resources, token: str, email: str, callback_url: str | None,
    *, status_code: int,
) -> RedirectResponse:
    try:
        new = await service.complete_email_sign_in(
            resources, email, token, session_cookie(request, resources),
            request.headers.get("user-agent"),
        )
    except service.VerificationFailed:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        # A person who opened the link in a browser lands on the sign-in page, which says
        # what went wrong and offers a new link, instead of reading a JSON error.
        query = urlencode({"error": "link", "callbackUrl": callback_url or ""})
        return RedirectResponse(f"/signin?{query}", status_code=303)
    target = service.callback_target(resources, callback_url)
    return cookies.signed_in_redirect(resources.settings, request, target, new.token,
                                      new.expires, status_code=status_code)


@router.get(
    "/auth/callback/email", summary="Open a sign-in link", response_class=HTMLResponse,
    responses={200: {"description": "A page whose button signs in (POST to this path)"},
               302: {"description": "Asked for JSON only: signed in; redirected"},
               400: {"description": "Asked for JSON only: a bad link"}},
)
async def email_callback(
    request: Request, resources: ResourcesDep,
    token: Annotated[str, Query(max_length=256)], email: Annotated[str, Query(max_length=320)],
    callback_url: Annotated[str | None, Query(alias="callbackUrl", max_length=2048)] = None,
) -> Response:
    """Opening a link spends nothing: mail scanners open every link in a mail, so the page
    answered here signs in only when its button is pressed. A client that asks for JSON
    alone (`Accept: application/json`) is signed in at once, as Auth.js does."""
    if asks_for_json_only(request):
        return await use_sign_in_link(request, resources, token, email, callback_url,
                                      status_code=302)
    page = await pages.render(request, "signin_link.html", title="Sign in", nav="signin",
                              token=token, email=email, callback_url=callback_url or "")
    # The address holds the token: no page or resource it loads may pass it on.
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


@router.post(
    "/auth/callback/email", summary="Use a sign-in link", response_class=RedirectResponse,
    status_code=303,
    responses={303: {"description": "Signed in, or (browsers) a bad link: redirected"},
               400: {"description": "A bad link"}},
)
async def use_email_link(
    request: Request, resources: ResourcesDep,
    token: Annotated[str, Form(max_length=256)], email: Annotated[str, Form(max_length=320)],
    callback_url: Annotated[str | None, Form(alias="callbackUrl", max_length=2048)] = None,
) -> RedirectResponse:
    """The button of the link's page: consumes the link once and starts a session."""
    return await use_sign_in_link(request, resources, token, email, callback_url,
                                  status_code=303)


@router.post("/auth/signout", summary="Sign out: delete this session")
async def sign_out(request: Request, resources: ResourcesDep) -> JSONResponse:
    await service.sign_out(resources, session_cookie(request, resources))
    response = JSONResponse({"signedOut": True})
    cookies.clear_session_cookies(
        response, resources.settings, cookies.readable_session_cookie_names(resources.settings)
    )
    return response


@router.get(
    "/auth/session", response_model=SessionInfo | dict, summary="Who is signed in",
)
async def session(user: OptionalUser) -> SessionInfo | dict:
    """`{}` when signed out, as Auth.js answers."""
    if user is None:
        return {}
    return SessionInfo(
        user=SessionUser.of(user),
        expires=user.expires,
    )


@router.get("/user/screenname/check", response_model=ScreennameCheck)
async def check_screenname(
    resources: ResourcesDep, name: Annotated[str, Query(max_length=64)]
) -> ScreennameCheck:
    available, reason = await service.screenname_availability(resources, name)
    return ScreennameCheck(available=available, reason=reason)


@router.put(
    "/user/screenname", response_model=ScreennameUpdate,
    responses=responses((Conflict, "Taken"), (Invalid, "Not a valid screenname")),
)
async def put_screenname(
    body: ScreennameUpdate, user: CurrentUser, resources: ResourcesDep
) -> ScreennameUpdate:
    name = await service.set_screenname(resources, user.id, body.screenname)
    return ScreennameUpdate(screenname=name)


dev_router = APIRouter(prefix="/api/dev", tags=["development"])


@dev_router.get("/outbox", response_model=list[OutboxMail], summary="Mail the dev server sent")
async def outbox(resources: ResourcesDep) -> list[OutboxMail]:
    """Only under `panamia dev` (and in tests) while SMTP_URL is unset; never in production."""
    if not isinstance(resources.mailer, DevOutbox):
        raise NotFound("There is no dev outbox here.")
    return [OutboxMail(to=e.to, subject=e.subject, link=e.link, sent_at=e.sent_at)
            for e in resources.mailer.entries]
