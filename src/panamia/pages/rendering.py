"""One Jinja2 environment and one `render` that every page of every service goes through."""

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader
from pymongo.errors import PyMongoError

from panamia.identity import cookies
from panamia.identity.dependencies import Principal, resolve_principal
from panamia.identity.tokens import csrf_cookie_value, csrf_token_from_cookie, new_token
from panamia.mail import DevOutbox
from panamia.notifications import service as notifications_service
from panamia.pages.markdown import render_markdown
from panamia.resources import Resources
from panamia.settings import Settings

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
FLASH_COOKIE = "panamia.flash"
FLASH_MAX_AGE = 120


def safe_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address or a path on this site; None for anything else
    (`javascript:`, `data:`, `//elsewhere`), which autoescaping alone would let through."""
    if not url or "\\" in url:
        return None
    if url.startswith("/") and not url.startswith("//"):
        return url
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def query(params: dict) -> str:
    """A query string of the parameters that have a value."""
    return urlencode({key: value for key, value in params.items() if value not in (None, "")})


def format_date(value: datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(markdown=render_markdown, safe_url=safe_url, date=format_date)
environment.globals.update(query=query)


def resources_of(request: Request) -> Resources:
    return request.app.state.resources


def _flash_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret, salt="panamia.pages.flash")


def _read_flash(request: Request, settings: Settings) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        return str(_flash_serializer(settings).loads(raw, max_age=FLASH_MAX_AGE))
    except BadSignature:
        return None


async def _unread(resources: Resources, user: Principal | None) -> int | None:
    """The header badge; a page still renders, without it, while MongoDB is unreachable."""
    if user is None:
        return None
    try:
        return await notifications_service.unread_count(resources, user.id)
    except PyMongoError:
        return None


async def render(request: Request, template: str, *, status: int = 200, **context) -> HTMLResponse:
    """Render `template` with what the layout needs: the signed-in `user`, the `csrf_token`
    for forms (its cookie is set here when missing), the `unread` count, both services'
    URLs, a one-time `notice`, and empty `errors`/`values`/`labels` unless the page passes
    them (`labels` names each field in the error summary)."""
    resources = resources_of(request)
    settings = resources.settings
    user = await resolve_principal(request, resources)
    token = csrf_token_from_cookie(
        request.cookies.get(cookies.csrf_cookie_name(settings)), settings.secret
    )
    new_csrf_cookie = None
    if token is None:
        token = new_token()
        new_csrf_cookie = csrf_cookie_value(token, settings.secret)
    notice = _read_flash(request, settings)
    page = {
        "request": request, "user": user, "csrf_token": token,
        "unread": await _unread(resources, user),
        "auth_url": settings.auth_url, "pets_url": settings.pets_url,
        "dev_outbox": isinstance(resources.mailer, DevOutbox),
        "notice": notice, "error": None, "errors": {}, "values": {}, "labels": {},
    }
    html = environment.get_template(template).render({**page, **context})
    # Pages carry a person's data and a form token: never kept, so the back button after
    # signing out cannot show the signed-in page again.
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    if new_csrf_cookie:
        cookies.set_csrf_cookie(response, settings, new_csrf_cookie)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", secure=settings.secure_cookies,
                               httponly=True, samesite="lax")
    return response


def redirect(request: Request, url: str, *, notice: str | None = None) -> RedirectResponse:
    """303 See Other, the answer to a form POST that worked; `notice` shows once on arrival."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        settings = resources_of(request).settings
        response.set_cookie(
            FLASH_COOKIE, _flash_serializer(settings).dumps(notice), max_age=FLASH_MAX_AGE,
            httponly=True, samesite="lax", secure=settings.secure_cookies, path="/",
        )
    return response


def here(request: Request) -> str:
    """This page's path and query, to come back to after signing in or a form."""
    query_string = request.url.query
    return request.url.path + (f"?{query_string}" if query_string else "")


def local_path(target: str | None, default: str) -> str:
    """A path on this site to return to after a form (`next`), never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
