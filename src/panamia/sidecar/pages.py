"""What every sidecar's pages share: the route class that tells pages from the JSON API on the
same paths, the sign-in link to the main app, a month calendar and small formatting helpers
for templates. See docs/sidecars.md, "Pages"."""

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.routing import Match

from panamia import pages
from panamia.errors import Unauthorized
from panamia.pages.errors import PAGE_ERRORS, PageRoute, page_for
from panamia.pages.rendering import environment

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def from_browser(scope) -> bool:
    """A page request: a navigation that accepts HTML, or a form being sent. API clients ask
    for JSON (or anything) and send JSON, so they keep reaching the JSON routes."""
    headers = dict(scope.get("headers") or ())
    if scope.get("method") in ("GET", "HEAD"):
        return b"text/html" in headers.get(b"accept", b"")
    return headers.get(b"content-type", b"").decode("latin-1").startswith(FORM_TYPES)


class SidecarPageRoute(PageRoute):
    """A sidecar's JSON API has no `/api` prefix, so `/listings/{id}` is both a JSON resource
    and a page. A page route matches only a browser's request; anything else falls through to
    the JSON route on the same path. A missing sign-in becomes a page with a link to the main
    app's sign-in (a sidecar has none of its own)."""

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


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=SidecarPageRoute)


def add_templates(directory: Path) -> None:
    """Let `pages.render` find a sidecar's templates (named `<sidecar>/…`) in `directory`."""
    loader = environment.loader
    loaders = loader.loaders if isinstance(loader, ChoiceLoader) else [loader]
    if not any(directory in getattr(found, "searchpath", ()) for found in loaders):
        environment.loader = ChoiceLoader([*loaders, FileSystemLoader(directory)])


def sign_in_url(request: Request) -> str:
    """The main app's sign-in, coming back to this page on the sidecar's site afterwards."""
    settings = pages.resources_of(request).settings
    here = request.app.state.sidecar.url(settings)
    if request.method in ("GET", "HEAD"):
        back = here + request.url.path
        if request.url.query:
            back += "?" + request.url.query
    else:
        referer = request.headers.get("referer", "")
        back = referer if referer.startswith(here + "/") else here + "/"
    return f"{settings.auth_url}/signin?{urlencode({'callbackUrl': back})}"


async def sign_in_needed(request: Request):
    """401, as the sidecar's own `<name>/signin_needed.html` says it."""
    sidecar = request.app.state.sidecar
    return await pages.render(request, f"{sidecar.name}/signin_needed.html", status=401,
                              title="Sign in to continue", nav=sidecar.name,
                              signin_url=sign_in_url(request))


STATES = {"free": "available", "booked": "booked", "past": "past"}


@dataclass(frozen=True)
class Day:
    day: date
    state: str  # "free", "past", or the kind of the range that takes it
    label: str


@dataclass(frozen=True)
class Month:
    first: date
    weeks: list[list[Day | None]]  # Monday first; None outside the month
    previous: date  # first days of the months the navigation links go to
    next: date

    @property
    def caption(self) -> str:
        return f"{self.first:%B %Y}"

    @property
    def key(self) -> str:
        return f"{self.first:%Y-%m}"


def month_start(text: str | None, default: date, today: date) -> date:
    """The first day of `YYYY-MM`, else of `default`'s month, else of this month: a month far
    from today (a date typed at the calendar's edge) is not shown."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = default.replace(day=1)
    return first if 1900 < first.year < 2200 else today.replace(day=1)


def following(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def preceding(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def state_of(day: date, ranges: Iterable, today: date) -> str:
    for taken in ranges:  # half-open: the end day is free again
        if taken.start_date <= day < taken.end_date:
            return taken.kind
    return "past" if day < today else "free"


def month_grid(first: date, ranges: Iterable, today: date,
               labels: Mapping[str, str] = STATES) -> Month:
    """The month starting at `first`, each day in the state of the range (`start_date`,
    `end_date`, `kind`) holding it, in words from `labels`."""
    ranges = list(ranges)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        days = []
        for day in week:
            state = state_of(day, ranges, today)
            days.append(Day(day, state, labels.get(state, state)) if day.month == first.month
                        else None)
        weeks.append(days)
    return Month(first=first, weeks=weeks, previous=preceding(first), next=following(first))


def money(amount: Decimal, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def long_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def nights(count: int) -> str:
    return f"{count} night" + ("" if count == 1 else "s")


def words(code: str) -> str:
    """`house_sitting` → `house sitting`."""
    return code.replace("_", " ")


def parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


HELPERS = {"money": money, "long_date": long_date, "nights": nights, "words": words}
