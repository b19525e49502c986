"""Amounts of money: a `Decimal` and an ISO 4217 code, never a float."""

import re
from decimal import Decimal

from panamia.errors import Invalid

CURRENCY = re.compile(r"^[A-Z]{3}$")
# Digits after the decimal point where ISO 4217 says other than 2.
# More than any one payment here; it keeps amounts well inside Decimal's 28 digits.
LIMIT = Decimal("1e12")
_MINOR_UNITS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
                "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def checked(amount: Decimal, currency: str) -> Decimal:
    """`amount` at the currency's scale (5 USD -> 5.00), or Invalid naming what is wrong."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money is a Decimal, not {type(amount).__name__}")
    if not CURRENCY.match(currency):
        raise Invalid(f"{currency!r} is not a currency: use its ISO 4217 code, such as USD",
                      fields=["currency"])
    places = minor_units(currency)
    if not amount.is_finite() or amount <= 0:
        raise Invalid(f"the amount must be more than 0, not {amount}", fields=["amount"])
    if amount >= LIMIT:
        raise Invalid(f"the amount must be less than {LIMIT:,f}", fields=["amount"])
    if amount.as_tuple().exponent < -places and amount != round(amount, places):
        raise Invalid(f"{currency} amounts have at most {places} decimals, not {amount}",
                      fields=["amount"])
    return amount.quantize(Decimal(1).scaleb(-places))


def show(amount: Decimal, currency: str) -> str:
    """As people read it: 1,234.50 USD."""
    return f"{amount:,.{minor_units(currency)}f} {currency}"
