"""What every pets page shares: the route class that tells pages from the JSON API on the same
paths, the sign-in link to the main app, and small formatting helpers."""

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.routing import Match

from panamia import pages
from panamia.errors import Unauthorized
from panamia.pages.errors import PAGE_ERRORS, PageRoute, page_for

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def from_browser(scope) -> bool:
    """A page request: a navigation that accepts HTML, or a form being sent. API clients ask
    for JSON (or anything) and send JSON, so they keep reaching the JSON routes."""
    headers = dict(scope.get("headers") or ())
    if scope.get("method") in ("GET", "HEAD"):
        return b"text/html" in headers.get(b"accept", b"")
    return headers.get(b"content-type", b"").decode("latin-1").startswith(FORM_TYPES)


class PetsPageRoute(PageRoute):
    """The sidecar's JSON API has no `/api` prefix, so `/listings/{id}` and `/bookings` are both
    a JSON resource and a page. A page route matches only a browser's request; anything else
    falls through to the JSON route on the same path. A missing sign-in becomes a page with a
    link to the main app's sign-in (the sidecar has none of its own)."""

    def matches(self, scope):
        match, child = super().matches(scope)
        if match is not Match.NONE and not from_browser(scope):
            return Match.NONE, {}
        return match, child

    def get_route_handler(self):
        handler = APIRoute.get_route_handler(self)

        async def handle(request: Request):
            try:
                return await handler(request)
            except Unauthorized:
                return await sign_in_needed(request)
            except PAGE_ERRORS as exc:
                return await page_for(request, exc)

        return handle


def pets_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PetsPageRoute)


def sign_in_url(request: Request) -> str:
    """The main app's sign-in, coming back to this page on the pets site afterwards."""
    settings = pages.resources_of(request).settings
    if request.method in ("GET", "HEAD"):
        back = settings.pets_url + request.url.path
        if request.url.query:
            back += "?" + request.url.query
    else:
        referer = request.headers.get("referer", "")
        back = referer if referer.startswith(settings.pets_url + "/") else settings.pets_url + "/"
    return f"{settings.auth_url}/signin?{urlencode({'callbackUrl': back})}"


async def sign_in_needed(request: Request):
    return await pages.render(request, "pets/signin_needed.html", status=401,
                              title="Sign in to continue", nav="pets",
                              signin_url=sign_in_url(request))


def money(amount: Decimal, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def long_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def nights(count: int) -> str:
    return f"{count} night" + ("" if count == 1 else "s")


def words(code: str) -> str:
    """`house_sitting` → `house sitting`, for services and species."""
    return code.replace("_", " ")


def parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


HELPERS = {"money": money, "long_date": long_date, "nights": nights, "words": words}
