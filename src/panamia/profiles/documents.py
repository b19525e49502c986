"""The `profiles` collection: one document per PostgreSQL user, keyed by `userId`.

The known parts are typed; the varied fields the seed keeps flexible go in `extra`, a
free-form object bounded in keys, depth and size. The whole stored document is bounded
too (64 KiB of BSON), which is what keeps a directory page cheap to read.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

import bson
from pydantic import AfterValidator, Field, JsonValue, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel

from panamia.fields import (
    ClockTime,
    Label,
    Strict,
    Text,
    Url,
    Zip,
    fold,
    folded_words,
    unique,
)
from panamia.schemas import Schema

COLLECTION = "profiles"
MAX_DOCUMENT_BYTES = 64 * 1024
EXTRA_MAX_BYTES = 16 * 1024
EXTRA_MAX_KEYS = 100
EXTRA_MAX_DEPTH = 3
EXTRA_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
INT64 = 2**63
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_SEARCH_WORDS = 300

INDEXES = {
    COLLECTION: [
        IndexModel([("userId", ASCENDING)], name="uq_profiles_userId", unique=True),
        IndexModel([("active", ASCENDING), ("sortName", ASCENDING), ("_id", ASCENDING)],
                   name="ix_profiles_directory"),
        IndexModel([("active", ASCENDING), ("categories", ASCENDING)],
                   name="ix_profiles_categories"),
        IndexModel([("active", ASCENDING), ("searchWords", ASCENDING)],
                   name="ix_profiles_search"),
        IndexModel([("active", ASCENDING), ("createdAt", DESCENDING), ("_id", DESCENDING)],
                   name="ix_profiles_newest"),
    ]
}


def _bounded_extra(value: dict[str, Any]) -> dict[str, Any]:
    keys = 0

    def walk(node: Any, path: str, depth: int) -> None:
        nonlocal keys
        if isinstance(node, dict | list) and depth > EXTRA_MAX_DEPTH:
            raise ValueError(f"{path} nests deeper than {EXTRA_MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, child in node.items():
                keys += 1
                if not EXTRA_KEY.fullmatch(key):
                    raise ValueError(f"key {key[:70]!r} in {path}: use 1-64 letters, digits, "
                                     "_ or -, not starting with -")
                walk(child, f"{path}.{key}", depth + 1)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]", depth + 1)
        elif isinstance(node, int) and not -INT64 <= node < INT64:
            raise ValueError(f"{path} is out of the 64-bit integer range")
        elif isinstance(node, str) and "\x00" in node:
            raise ValueError(f"{path} must not contain NUL characters")

    walk(value, "extra", 1)
    if keys > EXTRA_MAX_KEYS:
        raise ValueError(f"has {keys} keys; at most {EXTRA_MAX_KEYS} in all")
    size = len(bson.encode(value))
    if size > EXTRA_MAX_BYTES:
        raise ValueError(f"is {size} bytes; at most {EXTRA_MAX_BYTES} (16 KiB)")
    return value


Extra = Annotated[dict[str, JsonValue], AfterValidator(_bounded_extra)]
Name = Annotated[Text, Field(max_length=120)]
Bio = Annotated[Text, Field(max_length=5000)]


class Image(Strict):
    url: Url
    alt: Annotated[Text, Field(max_length=500)] = ""


class CustomLink(Strict):
    label: Annotated[Text, Field(min_length=1, max_length=60)]
    url: Url


class SocialLinks(Strict):
    """Known networks by name, anything else in `customLinks`. Every value is a full URL."""

    instagram: Url | None = None
    facebook: Url | None = None
    x: Url | None = Field(None, description="X, formerly Twitter; `twitter` is accepted too")
    tiktok: Url | None = None
    youtube: Url | None = None
    spotify: Url | None = None
    linkedin: Url | None = None
    website: Url | None = None
    custom_links: Annotated[list[CustomLink], Field(max_length=20)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _twitter_is_x(cls, data: Any) -> Any:
        if isinstance(data, dict) and "twitter" in data:
            data = dict(data)
            twitter = data.pop("twitter")
            data.setdefault("x", twitter)
        return data


class DayHours(Strict):
    """`{"open": "09:00", "close": "17:00"}` or `{"closed": true}`; no hours past midnight.
    Times may be sent as `9:00 AM` too; they are kept and answered as `HH:MM`."""

    open: ClockTime | None = None
    close: ClockTime | None = None
    closed: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "DayHours":
        if self.closed:
            if self.open or self.close:
                raise ValueError("a closed day has no opening or closing time")
        elif not (self.open and self.close):
            raise ValueError("give both an opening and a closing time, or mark the day closed")
        elif self.close <= self.open:
            raise ValueError("the closing time must be after the opening time")
        return self


class Hours(Strict):
    monday: DayHours | None = None
    tuesday: DayHours | None = None
    wednesday: DayHours | None = None
    thursday: DayHours | None = None
    friday: DayHours | None = None
    saturday: DayHours | None = None
    sunday: DayHours | None = None


class Location(Strict):
    neighborhood: Annotated[Text, Field(max_length=100)] | None = None
    city: Annotated[Text, Field(max_length=100)] | None = None
    state: Annotated[Text, Field(max_length=100)] | None = None
    zip: Zip | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lng: Annotated[float, Field(ge=-180, le=180)] | None = None

    @model_validator(mode="after")
    def _both_coordinates(self) -> "Location":
        if (self.lat is None) != (self.lng is None):
            raise ValueError("give both lat and lng, or neither")
        return self


Categories = Annotated[list[Label], AfterValidator(unique), Field(max_length=20)]
TimeFormat = Literal["12h", "24h"]
Images = Annotated[list[Image], Field(max_length=20)]


class ProfileFields(Schema):
    """What a person may edit."""

    name: Name = ""
    bio: Bio = ""
    images: Images = []
    social_links: SocialLinks = SocialLinks()
    hours: Hours = Hours()
    categories: Categories = []
    location: Location | None = None
    time_format: TimeFormat = Field(
        "12h", description="How opening hours are shown: 9:00 AM (12h) or 09:00 (24h)")
    active: bool = False
    extra: Extra = {}


class ProfileDocument(ProfileFields):
    """A stored profile. Unknown stored fields are ignored on read and kept on write."""

    user_id: str
    created_at: datetime
    updated_at: datetime
    version: int = 0


SEARCHED = {"name", "bio", "categories", "location"}


def search_fields(profile: dict[str, Any]) -> dict[str, Any]:
    """Derived, indexed fields of a stored `profile`: SecantusDB has no text index, so the
    directory searches whole folded words by prefix and sorts by the folded name. The place
    words come first, so a long bio cannot push them past the cap."""
    location = profile.get("location") or {}
    parts = [location.get("neighborhood"), location.get("city"), profile.get("name"),
             *(profile.get("categories") or []), profile.get("bio")]
    words = unique(folded_words(" ".join(part for part in parts if isinstance(part, str))))
    return {"searchWords": words[:MAX_SEARCH_WORDS], "sortName": fold(profile.get("name") or "")}


def stored(fields: ProfileFields, names: set[str] | None = None) -> dict[str, Any]:
    """The MongoDB form of `fields` (all of them, or only `names`), with its search fields."""
    data = fields.model_dump(by_alias=True, include=names, exclude_none=True)
    if names is None or "location" in names:
        data["location"] = data.get("location")
    if names is None or names & SEARCHED:
        data.update(search_fields(fields.model_dump(by_alias=True)))
    return data


def new_profile(name: str | None, now: datetime) -> dict[str, Any]:
    """The defaults `ensure_profile` inserts (without `userId`, which the upsert's filter sets)."""
    printable = "".join(c for c in name or "" if c.isprintable())
    fields = ProfileFields(name=printable[:120])
    return {**stored(fields), "createdAt": now, "updatedAt": now, "version": 0}
