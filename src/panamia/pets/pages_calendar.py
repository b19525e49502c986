"""A listing's availability as a month grid, built from the public availability use case (dates
and kind only: nothing about who booked)."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from panamia.pets.listings import service as listings_service
from panamia.resources import Resources

STATES = {"free": "available", "booked": "booked", "blocked": "sitter away", "past": "past"}


@dataclass(frozen=True)
class Day:
    day: date
    state: str  # a key of STATES

    @property
    def label(self) -> str:
        return STATES[self.state]


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


def state_of(day: date, ranges, today: date) -> str:
    for taken in ranges:  # half-open: the check-out day is free again
        if taken.start_date <= day < taken.end_date:
            return taken.kind
    return "past" if day < today else "free"


async def month_calendar(
    resources: Resources, listing_id: str, first: date, today: date
) -> Month:
    end = following(first)
    found = await listings_service.availability(resources, listing_id, (first, end))
    weeks = [
        [Day(day, state_of(day, found.ranges, today)) if day.month == first.month else None
         for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    return Month(first=first, weeks=weeks, previous=preceding(first), next=end)
