"""Errors on pages: HTML a person can read, while `/api` keeps its JSON envelope."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from pymongo.errors import ConnectionFailure
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from panamia.db.postgres import unreachable
from panamia.errors import DomainError, Unauthorized, postgres_unavailable
from panamia.pages.rendering import here, render

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "Something changed meanwhile",
    413: "Too large",
    422: "Please check what you entered",
    503: "Temporarily unavailable",
}
CSRF_EXPIRED = ("This form was open for too long, or was sent from another site. Go back, "
                "reload the page and send it again.")
NOT_FOUND = "There is nothing at this address. It may have moved, or the link has a typo."
UNAVAILABLE = "A part of the site cannot be reached right now; nothing was changed. " \
              "Try again in a minute."


def wants_html(request: Request) -> bool:
    """A browser navigating a page, not an API client (those ask for JSON or for anything)."""
    return (not request.url.path.startswith("/api")
            and "text/html" in request.headers.get("accept", ""))


async def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    title = TITLES.get(status, "Something went wrong")
    return await render(request, "error.html", status=status, title=title, message=message)


def sign_in_first(request: Request) -> RedirectResponse:
    back = here(request) if request.method == "GET" else request.headers.get("referer")
    query = {"callbackUrl": back} if back else {}
    return RedirectResponse(f"/signin?{urlencode(query)}", status_code=303)


async def page_for(request: Request, exc: Exception) -> HTMLResponse | RedirectResponse:
    if isinstance(exc, DBAPIError):
        if not unreachable(exc):
            raise exc
        # When it was looking up who is asking that failed, the page shows no one signed in.
        request.scope.setdefault("state", {}).setdefault("principal", None)
        exc = postgres_unavailable()
    if isinstance(exc, Unauthorized):
        return sign_in_first(request)
    if isinstance(exc, DomainError):
        message = CSRF_EXPIRED if exc.error == "csrf" else exc.detail
        return await error_page(request, exc.status, message)
    if isinstance(exc, RequestValidationError):
        return await error_page(request, 400, "The address holds a value this page cannot use. "
                                "Check the link, or start again from the menu.")
    return await error_page(request, 503, UNAVAILABLE)


# What `page_for` turns into a page; anything else is a server error.
PAGE_ERRORS = (DomainError, RequestValidationError, ConnectionFailure, DBAPIError)


class PageRoute(APIRoute):
    """A page's route: errors raised by services or dependencies (CSRF, sign-in) become an
    HTML page, and a missing sign-in a trip to /signin, instead of the JSON envelope."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def handle(request: Request):
            try:
                return await handler(request)
            except PAGE_ERRORS as exc:
                return await page_for(request, exc)

        return handle


def page_router(**kwargs) -> APIRouter:
    """The router every domain's `pages.py` starts from; pages stay out of the OpenAPI schema."""
    return APIRouter(include_in_schema=False, route_class=PageRoute, **kwargs)


def html_for_browsers(json_handler):
    """Wrap the app's HTTP-error handler: a browser asking for a page that does not exist
    gets the HTML 404 page; API clients still get the JSON envelope from `json_handler`."""

    async def handle(request: Request, exc: StarletteHTTPException):
        if wants_html(request):
            message = NOT_FOUND if exc.status_code == 404 else str(exc.detail)
            return await error_page(request, exc.status_code, message)
        return await json_handler(request, exc)

    return handle
