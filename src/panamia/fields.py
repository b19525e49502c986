"""Constrained field types and request-body rules shared by every domain's schemas and documents."""

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from panamia.schemas import Schema

# Where a form or JSON body carries the CSRF token (`identity.csrf` checks it).
CSRF_FIELD = "csrfToken"


def mongo_now() -> datetime:
    """Now, cut to the millisecond BSON keeps, so what we return equals what we read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def fold(text: str) -> str:
    """Lower case without accents: `Café` and `cafe` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_words(text: str) -> list[str]:
    return [word for word in re.split(r"\W+", fold(text)) if word]


def _no_control_characters(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value):
        raise ValueError("must not contain control characters")
    return value


SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
URL_PROBLEM = "Enter a web address, like https://example.org/page"


def _http_url(value: str) -> str:
    """An address as a person types it: `instagram.com/x` means `https://instagram.com/x`.
    Only http(s) addresses to a named host are kept; `javascript:` and the like are refused."""
    if not isinstance(value, str):
        raise PydanticCustomError("url", URL_PROBLEM)
    value = value.strip()
    scheme = SCHEME.match(value)
    if value.startswith("//"):
        value = "https:" + value
    elif "://" not in value and not (scheme and "." not in scheme.group(1)):
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        usable = parts.scheme.lower() in ("http", "https") and (
            "." in host.strip(".") or ":" in host or host == "localhost")
    except ValueError:  # an unclosed IPv6 bracket such as "http://[x"
        usable = False
    if not usable or any(c.isspace() for c in value):
        raise PydanticCustomError("url", URL_PROBLEM)
    return value


def normalize_label(value: str) -> str:
    return " ".join(value.split()).lower() if isinstance(value, str) else value


Text = Annotated[str, AfterValidator(_no_control_characters)]
Url = Annotated[str, BeforeValidator(_http_url), StringConstraints(max_length=2048),
              Field(examples=["https://instagram.com/yourname"])]
# Categories and tags: trimmed, single-spaced, lower case, so filters match exactly.
Label = Annotated[
    str, BeforeValidator(normalize_label), StringConstraints(min_length=1, max_length=40),
    AfterValidator(_no_control_characters),
]


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zone names a person may choose, sorted (the host's `localtime` file is not one)."""
    return tuple(sorted(available_timezones() - {"localtime"}))


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(time_zones())


def _iana_time_zone(name: str) -> str:
    if name not in _time_zone_names():
        raise ValueError("choose a time zone from the list, like America/New_York (Eastern Time)")
    return name


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_iana_time_zone),
                     Field(examples=["America/New_York"])]
CENT = Decimal("0.01")
# An amount as we answer it: always a string with exactly two decimals, never a JSON number.
Money = Annotated[
    Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(examples=["USD"])]
# The currencies offered in forms, by code, with the name a person reads.
CURRENCIES = (("USD", "US dollars"), ("EUR", "Euros"), ("GBP", "British pounds"),
              ("CAD", "Canadian dollars"), ("MXN", "Mexican pesos"),
              ("COP", "Colombian pesos"), ("BRL", "Brazilian reais"))
MONEY_TEXT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?|\.(\d+)", re.ASCII)
MONEY_LIMIT = Decimal("100000000")
AMOUNT_PROBLEM = "Enter an amount like 35 or $35.00"


def _amount(value: Any) -> Decimal:
    """An amount as a person writes it: `35`, `35.00`, `$35` or `$1,200` (or a JSON number),
    in cents at most, from $0 to below $100,000,000 (what NUMERIC(10, 2) holds)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise PydanticCustomError("amount", AMOUNT_PROBLEM)
    text = str(value).strip().replace(" ", "")
    negative = text.startswith("-")
    text = text.removeprefix("-").removeprefix("$")
    match = MONEY_TEXT.fullmatch(text)
    if not match:
        raise PydanticCustomError("amount", AMOUNT_PROBLEM)
    if negative:
        raise PydanticCustomError("amount", "Enter an amount of $0 or more")
    if len(match.group(2) or match.group(3) or "") > 2:
        raise PydanticCustomError("amount", "Use at most two decimals (cents), like 35.50")
    amount = Decimal(text.replace(",", ""))
    if amount >= MONEY_LIMIT:
        raise PydanticCustomError("amount", "Enter an amount below $100,000,000")
    return amount


def _above_zero(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise PydanticCustomError("price", "Enter a price above $0, like 35")
    return amount


# An amount typed in, from $0; `Price` is one above $0.
Amount = Annotated[Decimal, BeforeValidator(_amount), WithJsonSchema({
    "anyOf": [{"type": "string"}, {"type": "number", "minimum": 0}],
    "examples": ["35.00", "$35", "$1,200"],
    "description": "Dollars and cents: 35, 35.50, $35 or $1,200",
})]
Price = Annotated[Amount, AfterValidator(_above_zero)]
ZIP_PATTERN = re.compile(r"[0-9]{5}(-[0-9]{4})?")


def _zip(value: Any) -> Any:
    if not isinstance(value, str) or not ZIP_PATTERN.fullmatch(value.strip()):
        raise PydanticCustomError("zip", "Enter a 5-digit ZIP code, like 33130")
    return value.strip()


# A US ZIP code: 5 digits, or ZIP+4 (33130-1234).
Zip = Annotated[str, BeforeValidator(_zip), WithJsonSchema(
    {"type": "string", "pattern": "^[0-9]{5}(-[0-9]{4})?$", "examples": ["33130"]})]


CLOCK_TEXT = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.ASCII | re.I)
CLOCK_PROBLEM = "Enter a time like 9:00 AM or 17:30"


def _clock_time(value: Any) -> Any:
    """A time of day as a person types it (`9:00 AM`, `9am`, `5:30 pm`, `17:30`), kept as
    `HH:MM` on a 24-hour clock. Without AM or PM the hour is read on a 24-hour clock."""
    match = CLOCK_TEXT.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or not (match.group(2) or match.group(3)):
        raise PydanticCustomError("clock_time", CLOCK_PROBLEM)
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half and not 1 <= hour <= 12:
        raise PydanticCustomError("clock_time", "With AM or PM, the hour is 1 to 12")
    if half:
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    if hour > 23 or minute > 59:
        raise PydanticCustomError("clock_time", CLOCK_PROBLEM)
    return f"{hour:02}:{minute:02}"


ClockTime = Annotated[str, BeforeValidator(_clock_time), WithJsonSchema(
    {"type": "string", "examples": ["09:00", "9:00 AM", "5:30 PM"],
     "description": "A time of day; answered as HH:MM on a 24-hour clock"})]


def clock_face(hhmm: str, *, hours24: bool = False) -> str:
    """`17:30` as a person reads it: `5:30 PM`, or `17:30` on a 24-hour clock."""
    if hours24:
        return hhmm
    hour, minute = (int(part) for part in hhmm.split(":"))
    return f"{(hour - 1) % 12 + 1}:{minute:02} {'AM' if hour < 12 else 'PM'}"


def unique(values: list) -> list:
    return list(dict.fromkeys(values))


class Strict(Schema):
    """A request body, or a part of one. A field it does not know is refused, naming it, and
    so are NaN and Infinity, which JSON does not have (stored, they would read back as null).
    `csrfToken` is dropped instead: Auth.js clients send the CSRF token in their JSON bodies,
    where `identity.csrf` has already checked it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _drop_csrf_token(cls, data: Any) -> Any:
        if isinstance(data, dict) and CSRF_FIELD in data:
            return {key: value for key, value in data.items() if key != CSRF_FIELD}
        return data


def reject_null(*fields: str):
    """For PATCH bodies: these fields may be left out, but not set to null."""

    def check(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value

    return field_validator(*fields, mode="before")(classmethod(check))
