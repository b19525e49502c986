"""Booking bodies and answers at the HTTP edge."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from panamia.fields import Strict
from panamia.pets.bookings.states import Status
from panamia.pets.listings.schemas import YEARS_AHEAD, FirstNight, Money, Species
from panamia.schemas import Schema

# Ids are cuid2 strings; anything else is refused before it reaches PostgreSQL.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
Role = Literal["owner", "sitter"]
MAX_PETS = 20  # the most any listing may take


class Pet(Strict):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    species: Species


class BookingRequest(Strict):
    """Nights are `[startDate, endDate)`: the end date is the check-out day."""

    listing_id: Annotated[str, Field(pattern=ID_PATTERN)]
    start_date: FirstNight = Field(description="Check-in day, in the listing's time zone: "
                                               f"from today to {YEARS_AHEAD} years ahead")
    end_date: date = Field(description="Check-out day; the next guest may check in that day")
    pets: Annotated[list[Pet], Field(min_length=1, max_length=MAX_PETS)]
    note: Annotated[str | None, Field(max_length=2000)] = None


class BookingView(Schema):
    id: str
    listing_id: str
    owner_id: str
    sitter_id: str
    start_date: date
    end_date: date
    nights: int
    status: Status
    total_price: Money = Field(description="nights × the listing's price per day, a string")
    currency: str
    pets: list[Pet]
    note: str | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    declined_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    completed_at: datetime | None
    expired_at: datetime | None


class BookingDetail(BookingView):
    owner_screenname: str | None
    owner_name: str | None
    sitter_screenname: str | None
    sitter_name: str | None


class BookingListItem(BookingView):
    other_party_screenname: str | None = Field(
        description="The sitter's when you are the owner, the owner's when you are the sitter"
    )
    other_party_name: str | None = Field(description="Their name, when they gave one")


class BookingPage(Schema):
    items: list[BookingListItem]
    page: int
    page_size: int
    has_more: bool
