"""Bodies and answers at the HTTP edge. Amounts come in as decimal strings or numbers with at
most two decimals and go out as strings ("45.00"), never as JSON numbers."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from panamia.exchange.models import CONDITIONS, KINDS, MAX_PHOTOS
from panamia.fields import Currency, Label, Money, Price, Strict, Text, Url, unique
from panamia.schemas import Schema, SingleLine

ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
LONGEST_AUCTION = timedelta(days=30)
SHORTEST_AUCTION = timedelta(minutes=5)

Kind = Literal[KINDS]
Condition = Literal[CONDITIONS]
Id = Annotated[str, Field(pattern=ID_PATTERN)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
                  *Text.__metadata__, SingleLine]
LongText = Annotated[str, StringConstraints(max_length=5000), *Text.__metadata__]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                 *Text.__metadata__]
Photos = Annotated[list[Url], Field(max_length=MAX_PHOTOS), AfterValidator(unique)]


class ListingCreate(Strict):
    """What each kind needs: `sale` a `price` (and `openToOffers` if offers are welcome);
    `auction` a `startPrice`, an `endsAt` (5 minutes to 30 days ahead), a `minIncrement`
    and optionally a `reservePrice`; `swap` and `free` no amount at all."""

    kind: Kind
    title: Title
    description: LongText | None = None
    category: Label
    condition: Condition
    city: City
    photos: Photos = []
    currency: Currency = "USD"
    price: Price | None = None
    open_to_offers: bool = False
    start_price: Price | None = None
    reserve_price: Price | None = None
    min_increment: Price | None = None
    ends_at: datetime | None = None

    @model_validator(mode="after")
    def _terms_of_kind(self):
        auction = ("start_price", "reserve_price", "min_increment", "ends_at")
        allowed = {"sale": {"price", "open_to_offers"}, "auction": set(auction)}.get(self.kind,
                                                                                   set())
        for name in ("price", "open_to_offers", *auction):
            if name not in allowed and getattr(self, name) not in (None, False):
                raise ValueError(f"a {self.kind} listing has no {name.replace('_', ' ')}")
        if self.kind == "sale" and self.price is None:
            raise ValueError("a sale needs a price")
        if self.kind == "auction":
            self.min_increment = self.min_increment or Decimal("1.00")
            if self.start_price is None or self.ends_at is None:
                raise ValueError("an auction needs a starting price and an end time")
            if self.ends_at.tzinfo is None:
                raise ValueError("the end time needs a time zone, such as "
                                 "2027-03-14T18:00:00Z")
            ahead = self.ends_at - datetime.now(UTC)
            if not SHORTEST_AUCTION <= ahead <= LONGEST_AUCTION:
                raise ValueError("an auction ends from 5 minutes to 30 days from now")
            if self.reserve_price is not None and self.reserve_price < self.start_price:
                raise ValueError("the reserve price must not be below the starting price")
        return self


class Seller(Schema):
    id: str
    screenname: str | None
    name: str | None


class ListingView(Schema):
    id: str
    seller: Seller
    kind: str
    title: str
    description: str | None
    category: str
    condition: str
    city: str
    photos: list[str]
    currency: str
    price: Money | None
    open_to_offers: bool
    start_price: Money | None
    reserve_met: bool | None = Field(description="Auctions: whether the highest bid reaches "
                                                 "the reserve (the reserve itself stays secret)")
    min_increment: Money | None
    ends_at: datetime | None
    high_bid: Money | None
    minimum_bid: Money | None = Field(description="Auctions: the least the next bid may be")
    bid_count: int
    status: str
    created_at: datetime


class ListingPage(Schema):
    items: list[ListingView]
    page: int
    page_size: int
    has_more: bool


class BidCreate(Strict):
    amount: Price


class BidView(Schema):
    id: str
    listing_id: str
    bidder_id: str
    bidder_screenname: str | None = None
    amount: Money
    currency: str
    status: str
    created_at: datetime


class BidPlaced(BidView):
    ends_at: datetime = Field(description="The auction's end, later if this bid came in its "
                                          "last two minutes")


class OfferCreate(Strict):
    """A sale open to offers takes an `amount`; a swap takes `swapListingId`, one of your own
    open listings; a free item takes neither (it asks for the item)."""

    amount: Price | None = None
    swap_listing_id: Id | None = None
    message: Annotated[str, StringConstraints(max_length=1000), *Text.__metadata__] | None = None


class OfferView(Schema):
    id: str
    listing_id: str
    buyer_id: str
    seller_id: str
    amount: Money | None
    currency: str
    swap_listing_id: str | None
    message: str | None
    status: str
    expires_at: datetime
    created_at: datetime


class DisputeBody(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=2000), *Text.__metadata__]


class TransactionView(Schema):
    id: str
    listing_id: str
    listing_title: str
    kind: str
    seller_id: str
    buyer_id: str
    price: Money
    fee: Money = Field(description="The platform's part, kept when the money is released")
    currency: str
    status: str
    pay_by: datetime | None
    auto_complete_at: datetime | None
    paid_at: datetime | None
    handed_over_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    disputed_at: datetime | None
    dispute_reason: str | None
    refunded_at: datetime | None
    created_at: datetime
