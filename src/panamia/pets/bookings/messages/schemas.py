"""Booking messages at the HTTP edge."""

import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from panamia.fields import Strict
from panamia.pets.bookings.messages.models import MAX_LENGTH
from panamia.schemas import Schema

# Pasted text can carry control characters (NUL, escape sequences) no reader wants: they are
# dropped, not refused. Line breaks and tabs stay; `\r\n` and `\r` become `\n`.
KEPT_CONTROLS = "\n\t"


def without_controls(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value
                   if c in KEPT_CONTROLS or unicodedata.category(c) != "Cc")


class MessageCreate(Strict):
    # Checked for emptiness and length by the service, which answers in a member's words.
    body: Annotated[str, BeforeValidator(without_controls), Field(
        description=f"Plain text, 1 to {MAX_LENGTH} characters once spaces around it are "
                    "trimmed; line breaks are kept")]


class MessageView(Schema):
    id: str
    booking_id: str
    author_id: str | None = Field(description="Null once the author has deleted their account")
    author_name: str | None = Field(description="Their name, else @screenname; null once the "
                                                "author has deleted their account")
    body: str
    created_at: datetime


class MessagePage(Schema):
    """Oldest first; `page` 1 holds the oldest messages."""

    items: list[MessageView]
    page: int
    page_size: int
    has_more: bool
