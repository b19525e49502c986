"""The ledger at the HTTP edge: amounts travel as decimal strings ("12.50"), never floats."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from panamia.fields import Strict
from panamia.schemas import Schema, SingleLine

Amount = Annotated[Decimal, Field(examples=["25.00"])]
Currency = Annotated[str, Field(examples=["USD"], min_length=3, max_length=3)]


class ManualMoney(Strict):
    """Money handed over or paid out outside the platform, in cash or by bank transfer."""

    email: Annotated[str, Field(max_length=320, examples=["ana@example.org"])]
    amount: Amount
    currency: Currency = "USD"
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=200),
                         SingleLine, Field(examples=["bank-2026-12-06-0042"])]


class Recorded(Schema):
    posted: bool  # false: this reference was recorded before, and nothing changed
    user_id: str
    direction: Literal["deposit", "payout"]
    amount: Amount
    currency: str
    reference: str
    available: Amount  # the member's available money in this currency now


class CurrencyTotals(Schema):
    currency: str
    available: Amount
    held: Amount


class Hold(Schema):
    """Money of yours held for one thing, until it is released or returned."""

    ref_type: str  # what it is held for: exchange_bid, exchange_transaction, rental, ...
    ref_id: str
    currency: str
    amount: Amount
    since: datetime


class Posting(Schema):
    at: datetime
    kind: str  # the event: manual.deposit, exchange.release, ...
    account: str  # "available", or "held for <ref_type> <ref_id>"
    amount: Amount  # positive: in, negative: out
    currency: str


class MyMoney(Schema):
    totals: list[CurrencyTotals]
    holds: list[Hold]
    postings: list[Posting]  # the latest first
