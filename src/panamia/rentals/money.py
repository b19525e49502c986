"""Where a rental's money goes, through the ledger, inside the transition's own transaction:
the postings commit or roll back with the status change. Each movement has its business
key (`rental:<id>:<step>`), so a replay posts nothing twice.

* confirm: the renter's fee and deposit, available → the rental's escrow;
* cancel after confirming: all of it back to the renter;
* return: the deposit back to the renter, the fee to the owner less the platform fee; a late
  return costs the hourly rate per started hour late, from the deposit first, the rest from
  the renter's balance as far as it goes;
* claim: the fee paid as at a return, late hours too; the rest of the deposit stays held
  until the renter accepts the claim or an admin settles the dispute;
* settle: the owner gets the amount agreed, the renter the rest of the deposit.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Conflict
from panamia.ledger import accounts, journal
from panamia.ledger.journal import InsufficientFunds, Move
from panamia.rentals import pricing
from panamia.rentals.states import Status

REF_TYPE = "rental"
ZERO = Decimal("0.00")

# What each rental's escrow account should hold now, for `panamia ledger check`.
HELD_FUNDS = f"""
SELECT '{REF_TYPE}' AS ref_type, id AS ref_id, currency,
       CASE WHEN status IN ('{Status.CONFIRMED}', '{Status.PICKED_UP}') THEN fee + deposit
            ELSE deposit - late_from_deposit END AS amount
  FROM rentals
 WHERE status IN ('{Status.CONFIRMED}', '{Status.PICKED_UP}', '{Status.CLAIMED}',
                  '{Status.DISPUTED}')
"""


def escrow(rental: Row):
    return accounts.escrow(REF_TYPE, rental.id)


async def post(session: AsyncSession, rental: Row, step: str, moves: list[Move]) -> None:
    moves = [m for m in moves if m.amount > 0]
    if moves:
        await journal.post(session, event_key=f"rental:{rental.id}:{step}",
                           kind=f"rental.{step}", moves=moves)


async def hold(session: AsyncSession, rental: Row) -> None:
    """At confirmation; 409 naming the shortfall when the renter lacks the money."""
    total = rental.fee + rental.deposit
    try:
        await post(session, rental, "hold", [
            Move(accounts.available(rental.renter_id), escrow(rental), total, rental.currency)])
    except InsufficientFunds as exc:
        raise Conflict(f"The renter's balance cannot cover the fee and deposit "
                       f"({total} {rental.currency}) right now, so the rental cannot be "
                       f"confirmed. {exc.detail}") from None


async def refund(session: AsyncSession, rental: Row) -> None:
    await post(session, rental, "refund", [
        Move(escrow(rental), accounts.available(rental.renter_id), rental.fee + rental.deposit,
             rental.currency)])


@dataclass(frozen=True)
class Late:
    fee: Decimal
    from_deposit: Decimal
    from_balance: Decimal


async def late(session: AsyncSession, rental: Row, returned_at: datetime) -> Late:
    """The late fee and where it comes from. What the deposit does not cover is taken from
    the renter's balance as far as it goes; the rest is not charged."""
    owed = pricing.late_fee(rental.ends_at, returned_at, rental.hourly_rate)
    from_deposit = min(owed, rental.deposit)
    rest = owed - from_deposit
    if rest > 0:
        balance = await journal.balance(session, accounts.available(rental.renter_id),
                                        rental.currency)
        rest = min(rest, balance)
    return Late(from_deposit + rest, from_deposit, rest)


def _paid_out(rental: Row, late_fee: Late) -> list[Move]:
    """The fee to the owner less the platform's share, and the late fee to the owner."""
    owner = accounts.available(rental.owner_id)
    cut = pricing.platform_fee(rental.fee)
    return [
        Move(escrow(rental), owner, rental.fee - cut + late_fee.from_deposit, rental.currency),
        Move(escrow(rental), accounts.fees(), cut, rental.currency),
        Move(accounts.available(rental.renter_id), owner, late_fee.from_balance,
             rental.currency),
    ]


async def release(session: AsyncSession, rental: Row, late_fee: Late) -> None:
    """The return: paid out, and the deposit less the late hours back to the renter."""
    back = rental.deposit - late_fee.from_deposit
    await post(session, rental, "return", [
        *_paid_out(rental, late_fee),
        Move(escrow(rental), accounts.available(rental.renter_id), back, rental.currency)])


async def pay_out_keeping_deposit(session: AsyncSession, rental: Row, late_fee: Late) -> None:
    """The return with a damage claim: paid out; the deposit's rest stays held."""
    await post(session, rental, "claim", _paid_out(rental, late_fee))


async def settle(session: AsyncSession, rental: Row, owner_gets: Decimal) -> None:
    held = rental.deposit - rental.late_from_deposit
    await post(session, rental, "settle", [
        Move(escrow(rental), accounts.available(rental.owner_id), owner_gets, rental.currency),
        Move(escrow(rental), accounts.available(rental.renter_id), held - owner_gets,
             rental.currency)])
