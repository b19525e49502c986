"""Cookie names and attributes shared by every service (Auth.js names, so a Next.js app agrees)."""

from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from panamia.settings import Settings

SESSION_COOKIE = "authjs.session-token"
CSRF_COOKIE = "authjs.csrf-token"
# Authlib's state, nonce and PKCE verifier while a provider sign-in is under way.
OAUTH_STATE_COOKIE = "authjs.oauth-state"
# Cookies written by NextAuth v4 stay valid while a deployment moves over.
LEGACY_SESSION_COOKIE = "next-auth.session-token"


def session_cookie_name(settings: Settings) -> str:
    return f"__Secure-{SESSION_COOKIE}" if settings.secure_cookies else SESSION_COOKIE


def readable_session_cookie_names(settings: Settings) -> tuple[str, ...]:
    """Over https only the prefixed names: a browser accepts a `__Secure-` cookie only from an
    https page with `Secure` set, while a plain name can be planted over http or by a sibling
    subdomain (session fixation)."""
    if settings.secure_cookies:
        return f"__Secure-{SESSION_COOKIE}", f"__Secure-{LEGACY_SESSION_COOKIE}"
    return SESSION_COOKIE, LEGACY_SESSION_COOKIE


def oauth_state_cookie_name(settings: Settings) -> str:
    """`__Host-` over https: Secure, this host only, so no sibling subdomain can set it."""
    return f"__Host-{OAUTH_STATE_COOKIE}" if settings.secure_cookies else OAUTH_STATE_COOKIE


def csrf_cookie_name(settings: Settings) -> str:
    if not settings.secure_cookies:
        return CSRF_COOKIE
    # __Host- forbids a Domain attribute, which subdomain sidecars need.
    return f"__Secure-{CSRF_COOKIE}" if settings.auth_cookie_domain else f"__Host-{CSRF_COOKIE}"


def _cookie_kwargs(settings: Settings, *, shared: bool) -> dict:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": settings.secure_cookies,
        "path": "/",
        "domain": settings.auth_cookie_domain if shared else None,
    }


def set_session_cookie(response: Response, settings: Settings, token: str, expires: datetime):
    response.set_cookie(
        session_cookie_name(settings), token, expires=expires,
        **_cookie_kwargs(settings, shared=True),
    )


def _header(write: Callable[[Response], None]) -> str:
    scratch = Response()
    write(scratch)
    return scratch.headers["set-cookie"]


def session_cookie_header(settings: Settings, token: str, expires: datetime) -> str:
    """The Set-Cookie header value, for middleware that re-sends a refreshed expiry."""
    return _header(lambda response: set_session_cookie(response, settings, token, expires))


def clear_session_cookies(response: Response, settings: Settings, names: tuple[str, ...]):
    for name in names:
        response.delete_cookie(name, **_cookie_kwargs(settings, shared=True))


def set_csrf_cookie(response: Response, settings: Settings, value: str):
    shared = bool(settings.auth_cookie_domain)
    response.set_cookie(csrf_cookie_name(settings), value, **_cookie_kwargs(settings, shared=shared))


def csrf_cookie_header(settings: Settings, value: str) -> str:
    return _header(lambda response: set_csrf_cookie(response, settings, value))


def signed_in_redirect(
    settings: Settings, request: Request, url: str, token: str, expires: datetime,
    *, status_code: int = 302,
) -> RedirectResponse:
    """Send the browser on with its new session cookie; legacy cookies are cleared."""
    response = RedirectResponse(url, status_code=status_code,
                                headers={"Referrer-Policy": "no-referrer"})
    current = session_cookie_name(settings)
    stale = tuple(n for n in readable_session_cookie_names(settings)
                  if n != current and n in request.cookies)
    clear_session_cookies(response, settings, stale)
    set_session_cookie(response, settings, token, expires)
    return response
