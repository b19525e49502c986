"""Server-rendered pages, shared by every service. See docs/pages.md.

A domain's `pages.py` builds its router with `page_router()`, answers with
`render(request, "template.html", **context)` or `redirect(request, url, notice=...)`,
and the app factory calls `install(app)` once. What every page's layout shows of a domain
(who is signed in, a badge) comes from hooks the app adds with `add_to_layout`.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from panamia.pages.errors import error_page, html_for_browsers, page_router, wants_html
from panamia.pages.forms import field_errors, invalid_errors, read_form, sentence, split_list
from panamia.pages.rendering import (
    STATIC_DIR,
    LayoutPart,
    add_to_layout,
    here,
    local_path,
    redirect,
    render,
    resources_of,
)

__all__ = [
    "LayoutPart", "add_to_layout", "error_page", "field_errors", "here", "install",
    "invalid_errors", "local_path", "page_router", "read_form", "redirect", "render",
    "resources_of", "sentence", "split_list", "wants_html",
]


def install(app: FastAPI) -> None:
    """Serve /static and answer browsers' 404s (and other HTTP errors) with an HTML page.
    Call it after the app's error handlers are installed (`create_service` does that)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    json_handler = app.exception_handlers[StarletteHTTPException]
    app.add_exception_handler(StarletteHTTPException, html_for_browsers(json_handler))
