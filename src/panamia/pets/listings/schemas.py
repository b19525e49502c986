"""Listing bodies and answers at the HTTP edge. Money in, money out: see `Price` and `Money`."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator
from pydantic_core.core_schema import ValidationInfo

from panamia.fields import (
    Currency,
    Money,
    Price,
    Strict,
    Text,
    TimeZone,
    Zip,
    reject_null,
    unique,
)
from panamia.pets.listings.models import SERVICES, SPECIES
from panamia.schemas import Schema, SingleLine

MAX_WINDOW_DAYS = 366
YEARS_AHEAD = 2
LOOK_BACK = timedelta(days=366)
# Ids in paths are cuid2 strings; anything else is refused before it reaches PostgreSQL.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

Service = Literal[SERVICES]
Species = Literal[SPECIES]
Services = Annotated[list[Service], Field(min_length=1, max_length=len(SERVICES)),
                     AfterValidator(unique)]
SpeciesList = Annotated[list[Species], Field(min_length=1, max_length=len(SPECIES)),
                        AfterValidator(unique)]


def _text(**constraints):
    """`Text` whose length is checked first, so a too-long value gets the plain message."""
    return Annotated[str, StringConstraints(**constraints), *Text.__metadata__]


Title = Annotated[_text(strip_whitespace=True, min_length=1, max_length=120), SingleLine]
Description = _text(max_length=5000)
City = _text(strip_whitespace=True, min_length=1, max_length=100)
MaxPets = Annotated[int, Field(ge=1, le=20)]


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def calendar_bounds(*, back: timedelta) -> tuple[date, date]:
    """The dates a person may send, from `back` before today (UTC) to two years ahead.
    Without bounds, 0001-01-01 and 9999-12-31 would reach PostgreSQL as -infinity and
    infinity (asyncpg's reading of Python's first and last dates)."""
    today = datetime.now(UTC).date()
    return today - back, years_after(today, YEARS_AHEAD)


def _from_today(start: date) -> date:
    """UTC's yesterday is let through, since it is still today west of UTC; booking checks
    the listing's own today."""
    earliest, latest = calendar_bounds(back=timedelta(days=1))
    if not earliest <= start <= latest:
        raise ValueError(f"must be from today to {latest}: nights can be booked or blocked "
                         f"from today to at most {YEARS_AHEAD} years ahead")
    return start


# The first night of a booking or a blackout.
FirstNight = Annotated[date, AfterValidator(_from_today)]


def window_problem(start: date, end: date, *, max_days: int = MAX_WINDOW_DAYS) -> str | None:
    """What is wrong with the half-open range `[start, end)`, if anything: it must start
    within a year back and two years ahead."""
    if end <= start:
        return "must come after the first night: one night ends the next day"
    if end - start > timedelta(days=max_days):
        return f"must be at most {max_days} days after the first night"
    earliest, latest = calendar_bounds(back=LOOK_BACK)
    if not earliest <= start <= latest:
        return (f"the dates must start between {earliest} and {latest}: from a year back to "
                f"{YEARS_AHEAD} years ahead")
    return None


PASSED = "This day has passed; search from today on."


def search_problem(start: date, end: date) -> tuple[str, str] | None:
    """What is wrong with searching for sitters free from `start` to the check-out day `end`,
    with the query's field at fault (`from` or `to`). A search of nights gone by would list
    sitters as free for them, so it is refused like a booking of them (UTC's yesterday is
    still today west of UTC)."""
    earliest, _ = calendar_bounds(back=timedelta(days=1))
    if start < earliest:
        return "from", PASSED
    if problem := window_problem(start, end):
        return "to", f"The check-out day {problem}."
    return None


class ListingCreate(Strict):
    title: Title
    description: Description | None = None
    price_per_day: Price
    currency: Currency = "USD"
    services: Services
    species: SpeciesList
    max_pets: MaxPets = 1
    city: City
    zip: Zip | None = None
    timezone: TimeZone = "America/New_York"


class ListingPatch(Strict):
    """Only the fields given change. `available: false` hides the listing from search."""

    title: Title | None = None
    description: Description | None = None
    price_per_day: Price | None = None
    currency: Currency | None = None
    services: Services | None = None
    species: SpeciesList | None = None
    max_pets: MaxPets | None = None
    city: City | None = None
    zip: Zip | None = None
    timezone: TimeZone | None = None
    available: bool | None = None

    _not_null = reject_null(
        "title", "price_per_day", "currency", "services", "species", "max_pets", "city",
        "timezone", "available",
    )


class Sitter(Schema):
    id: str
    screenname: str | None
    name: str | None


class ListingView(Schema):
    id: str
    sitter_id: str
    sitter: Sitter
    title: str
    description: str | None
    price_per_day: Money
    currency: str
    services: list[str]
    species: list[str]
    max_pets: int
    city: str
    zip: str | None
    timezone: str
    available: bool
    created_at: datetime
    updated_at: datetime


class ListingPage(Schema):
    items: list[ListingView]
    page: int
    page_size: int
    has_more: bool


class BlackoutCreate(Strict):
    """Nights `[startDate, endDate)` the sitter takes no bookings: `endDate` is the first
    night free again."""

    start_date: FirstNight
    end_date: date

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and (problem := window_problem(start, end)):
            raise ValueError(problem)
        return end


class BlackoutView(Schema):
    id: str
    listing_id: str
    start_date: date
    end_date: date
    created_at: datetime


class Range(Schema):
    """Half-open `[startDate, endDate)`, cut to the window asked for."""

    start_date: date
    end_date: date
    kind: Literal["booked", "blocked"]


class Availability(Schema):
    listing_id: str
    available: bool = Field(description="False: the sitter takes no bookings at all for now")
    from_: date = Field(alias="from")
    to: date
    ranges: list[Range]
