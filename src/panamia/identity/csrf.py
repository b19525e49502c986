"""Double-submit CSRF protection for every state-changing request in every service."""


from fastapi import Request

from panamia.errors import Forbidden, responses
from panamia.fields import CSRF_FIELD
from panamia.identity import cookies
from panamia.identity.tokens import csrf_token_from_cookie, same_token
from panamia.resources import ResourcesDep

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
HEADER = "x-csrf-token"
# The `responses=` of a route that changes state: its CSRF check may refuse it.
CHECKED = responses((Forbidden, "CSRF token missing or wrong"))


def authorized_by_its_url(endpoint):
    """Mark a route whose URL carries the one thing it may do (RFC 8058's one-click
    unsubscribe, POSTed by mail clients without cookies): no CSRF check."""
    endpoint.authorized_by_its_url = True
    return endpoint


async def submitted_token(request: Request) -> str | None:
    if header := request.headers.get(HEADER):
        return header
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
        elif content_type.startswith("application/json"):
            body = await request.json()
            value = body.get(CSRF_FIELD) if isinstance(body, dict) else None
        else:
            return None
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
        return None
    return value if isinstance(value, str) else None


async def verify_csrf(
    request: Request, resources: ResourcesDep
) -> None:
    if request.method in SAFE_METHODS or getattr(request.scope.get("endpoint"),
                                                  "authorized_by_its_url", False):
        return
    settings = resources.settings
    expected = csrf_token_from_cookie(
        request.cookies.get(cookies.csrf_cookie_name(settings)), settings.secret
    )
    given = await submitted_token(request)
    if not expected or not given or not same_token(given, expected):
        raise Forbidden(
            "CSRF token missing or wrong: get one from GET /api/auth/csrf and send it as the "
            f"{HEADER.title()} header or the {CSRF_FIELD} field of a form or JSON body.",
            error="csrf",
        )
