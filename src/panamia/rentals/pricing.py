"""Time and money of a rental, in the owner's time zone: pure functions, no database.

Bounds are computed here with `zoneinfo` and stored in UTC. An hour is an elapsed hour: a
rental across the spring-forward night is an hour shorter than the clock says, and is priced
so. A day is one of the owner's local days, whatever its length (23, 24 or 25 hours).
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from panamia.errors import Invalid

CENT = Decimal("0.01")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PLATFORM_FEE_RATE = Decimal("0.10")
# Times far outside these would overflow Python's datetime when moved between zones, or
# reach PostgreSQL as -infinity and infinity.
YEARS = range(1971, 2200)


def to_utc(value: datetime, zone: ZoneInfo, field: str) -> datetime:
    """A local date-time without an offset is read in the owner's zone; in the repeated hour
    of the autumn change it is the first of the two. One the spring change skips does not
    exist, and is refused naming the field, as is one outside 1971-2199."""
    if value.year not in YEARS:
        raise Invalid(f"{field} must be in the years {YEARS[0]} to {YEARS[-1]}.",
                      fields=[field])
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise Invalid(f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip "
                      "that hour. Choose a time outside it.", fields=[field])
    return local.astimezone(UTC)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time in `zone`, without its offset."""
    return moment.astimezone(zone).replace(tzinfo=None)


def elapsed_hours(start: datetime, end: datetime) -> int:
    """Started hours of real time between two instants (compared in UTC, never on the
    wall clock)."""
    seconds = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return math.ceil(seconds / 3600)


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> int:
    """Started local days: from 10:00 to 10:00 the next day is one day, even across a
    change of the clocks."""
    return math.ceil((local(end, zone) - local(start, zone)) / DAY)


def hourly_rate(price: Decimal, unit: str) -> Decimal:
    """What an hour costs: the price, or a day's price over 24 hours (late returns)."""
    rate = price if unit == "hour" else (price / 24).quantize(CENT, ROUND_HALF_UP)
    return max(rate, CENT)


@dataclass(frozen=True)
class Quote:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    units: int  # hours or local days charged
    unit: str
    fee: Decimal
    hourly_rate: Decimal


def quote(start: datetime, end: datetime, *, price: Decimal, unit: str, min_units: int,
          zone: ZoneInfo) -> Quote:
    """The rental `[start, end)` priced per started hour or per started local day; 422 when
    it ends before it starts or is shorter than the item's minimum."""
    starts_at, ends_at = to_utc(start, zone, "startsAt"), to_utc(end, zone, "endsAt")
    if ends_at <= starts_at:
        raise Invalid("endsAt must come after startsAt.", fields=["endsAt"])
    units = (elapsed_hours(starts_at, ends_at) if unit == "hour"
             else local_days(starts_at, ends_at, zone))
    if units < min_units:
        raise Invalid(f"This item is rented for at least {min_units} {unit}(s); this rental "
                      f"counts {units}.", fields=["endsAt"])
    return Quote(starts_at, ends_at, units, unit, (price * units).quantize(CENT),
                 hourly_rate(price, unit))


def late_fee(ends_at: datetime, returned_at: datetime, rate: Decimal) -> Decimal:
    """Every started hour after the agreed end, at the hourly rate."""
    if returned_at <= ends_at:
        return Decimal("0.00")
    return (rate * elapsed_hours(ends_at, returned_at)).quantize(CENT)


def platform_fee(fee: Decimal) -> Decimal:
    return (fee * PLATFORM_FEE_RATE).quantize(CENT, ROUND_HALF_EVEN)
