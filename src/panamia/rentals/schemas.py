"""Item and rental bodies and answers at the HTTP edge. Amounts go out as strings with two
decimals; times go out in UTC, with the item's zone beside them to show them locally."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints

from panamia.fields import Amount, Currency, Money, Price, Strict, Text, TimeZone
from panamia.rentals.models import CATEGORIES, MAX_BUFFER_MINUTES, PRICE_UNITS
from panamia.rentals.states import Status
from panamia.schemas import Schema, SingleLine

ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
Role = Literal["owner", "renter"]
Category = Literal[CATEGORIES]
PriceUnit = Literal[PRICE_UNITS]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
                  SingleLine, *Text.__metadata__]
Words = Annotated[str, StringConstraints(max_length=2000), *Text.__metadata__]


class ItemCreate(Strict):
    title: Title
    description: Annotated[str | None, StringConstraints(max_length=5000)] = None
    category: Category
    price: Price
    price_unit: PriceUnit = Field(description="The price is per hour or per day (the owner's "
                                              "local day)")
    currency: Currency = "USD"
    min_units: Annotated[int, Field(ge=1, le=720)] = Field(
        1, description="The shortest rental, in hours or days (the price unit)")
    buffer_minutes: Annotated[int, Field(ge=0, le=MAX_BUFFER_MINUTES)] = Field(
        0, description="Turnaround: kept free after each rental, before the next may start")
    deposit: Amount = Decimal("0.00")
    timezone: TimeZone = "America/New_York"


class ItemPatch(Strict):
    available: bool = Field(description="Whether the item takes new rental requests; rentals "
                                        "already asked for are kept")


class ItemView(Schema):
    id: str
    owner_id: str
    title: str
    description: str | None
    category: Category
    price: Money
    price_unit: PriceUnit
    currency: str
    min_units: int
    buffer_minutes: int
    deposit: Money
    timezone: str
    available: bool
    created_at: datetime


class ItemPage(Schema):
    items: list[ItemView]
    page: int
    has_more: bool


class TakenRange(Schema):
    """A time the item is not free: a rental, or the turnaround after it."""

    starts_at: datetime
    ends_at: datetime
    kind: Literal["rented", "turnaround"]


class Availability(Schema):
    item_id: str
    timezone: str
    taken: list[TakenRange]


class RentalRequest(Strict):
    item_id: Annotated[str, Field(pattern=ID_PATTERN)]
    starts_at: datetime = Field(description="A local date-time in the item's time zone "
                                            "(2027-03-14T10:00), or one with an offset")
    ends_at: datetime = Field(description="The end, the same way; the rental is [startsAt, "
                                          "endsAt) and the turnaround follows it")
    note: Words | None = None


class ClaimBody(Strict):
    amount: Amount = Field(description="What the owner keeps of the deposit for damage")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=2000), *Text.__metadata__]


class SettleBody(Strict):
    owner_gets: Amount = Field(description="What the owner keeps of the claim, from 0 to the "
                                           "amount claimed; the rest goes back to the renter")


class RentalView(Schema):
    id: str
    item_id: str
    owner_id: str
    renter_id: str
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime = Field(description="The end plus the item's turnaround")
    timezone: str
    status: Status
    fee: Money = Field(description="The price of the time, held at confirmation")
    deposit: Money
    hourly_rate: Money = Field(description="What each started hour of a late return costs")
    currency: str
    late_fee: Money
    claim_amount: Money | None
    claim_reason: str | None
    settled_amount: Money | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    picked_up_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RentalListItem(RentalView):
    item_title: str


class RentalPage(Schema):
    items: list[RentalListItem]
    page: int
    has_more: bool
