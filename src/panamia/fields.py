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
    field_validator,
    model_validator,
)

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


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # an unclosed IPv6 bracket such as "http://[x"
        usable = False
    if not usable or any(c.isspace() for c in value):
        raise ValueError("must be an http(s) URL such as https://example.org/page")
    return value


def normalize_label(value: str) -> str:
    return " ".join(value.split()).lower() if isinstance(value, str) else value


Text = Annotated[str, AfterValidator(_no_control_characters)]
Url = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)]
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
        raise ValueError("must be an IANA time zone name such as America/New_York")
    return name


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_iana_time_zone),
                     Field(examples=["America/New_York"])]
CENT = Decimal("0.01")
# An amount as we answer it: always a string with exactly two decimals, never a JSON number.
Money = Annotated[
    Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(examples=["USD"])]


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
