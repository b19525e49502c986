"""One Jinja2 environment and one `render` that every page of every service goes through."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader

from panamia.mail import DevOutbox
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


@dataclass(frozen=True)
class LayoutPart:
    """What one layout hook adds to a page: template context, and the Set-Cookie header
    values the response must carry."""

    context: dict
    set_cookies: list[str] = field(default_factory=list)


LayoutHook = Callable[[Request], Awaitable[LayoutPart]]


def add_to_layout(app: FastAPI, *hooks: LayoutHook) -> None:
    """Have every page of `app` show what `hooks` give (who is signed in, the forms' CSRF
    token, a badge): the app composes them, so this machinery knows no domain."""
    app.state.layout_hooks = [*getattr(app.state, "layout_hooks", ()), *hooks]


async def render(request: Request, template: str, *, status: int = 200, **context) -> HTMLResponse:
    """Render `template` with what the layout needs: what the app's layout hooks give (the
    signed-in `user`, the `csrf_token` for forms, the `unread` count), both services' URLs, a
    one-time `notice`, and empty `errors`/`values`/`labels` unless the page passes them
    (`labels` names each field in the error summary)."""
    resources = resources_of(request)
    settings = resources.settings
    parts = [await hook(request) for hook in getattr(request.app.state, "layout_hooks", ())]
    notice = _read_flash(request, settings)
    page = {
        "request": request, "user": None, "csrf_token": None, "unread": None,
        "auth_url": settings.auth_url, "pets_url": settings.pets_url,
        "dev_outbox": isinstance(resources.mailer, DevOutbox),
        "notice": notice, "error": None, "errors": {}, "values": {}, "labels": {},
    }
    for part in parts:
        page.update(part.context)
    html = environment.get_template(template).render({**page, **context})
    # Pages carry a person's data and a form token: never kept, so the back button after
    # signing out cannot show the signed-in page again.
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    for part in parts:
        for cookie in part.set_cookies:
            response.headers.append("set-cookie", cookie)
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
