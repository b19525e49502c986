"""The exchange's money in the ledger: each business event is one journal entry, posted in the
transaction of the state change it belongs to, under a key that names the event.

* A bid holds its amount (`available` → the bid's escrow); the bid it outbids is paid back in
  the same entry.
* An auction won moves the winning bid's escrow into the transaction's; one lost (reserve
  not met) pays the bid back.
* Paying moves the price into the transaction's escrow; completing pays the seller the price
  minus the platform fee (round half to even), and the fee to the platform; a refund pays the
  buyer back. Free items and swaps post nothing.
"""

from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.exchange.settings import get_exchange_settings
from panamia.ledger import accounts, journal
from panamia.ledger.journal import Move

CENT = Decimal("0.01")
BID, TRANSACTION = "exchange_bid", "exchange_transaction"


def fee_of(price: Decimal) -> Decimal:
    percent = get_exchange_settings().exchange_fee_percent
    return (price * percent / 100).quantize(CENT, rounding=ROUND_HALF_EVEN)


def held_for_bid(bid_id: str) -> accounts.Account:
    return accounts.escrow(BID, bid_id)


def held_for_transaction(transaction_id: str) -> accounts.Account:
    return accounts.escrow(TRANSACTION, transaction_id)


def pay_back(bid: Row) -> Move:
    return Move(held_for_bid(bid.id), accounts.available(bid.bidder_id), bid.amount, bid.currency)


async def hold_bid(session: AsyncSession, bid: Row, outbid: Row | None) -> None:
    moves = [Move(accounts.available(bid.bidder_id), held_for_bid(bid.id), bid.amount,
                  bid.currency)]
    if outbid is not None:
        moves.append(pay_back(outbid))
    await journal.post(session, event_key=f"exchange:bid:{bid.id}:place", kind="exchange.bid",
                       moves=moves)


async def release_lost_bid(session: AsyncSession, bid: Row) -> None:
    await journal.post(session, event_key=f"exchange:bid:{bid.id}:lost",
                       kind="exchange.bid_lost", moves=[pay_back(bid)])


async def award(session: AsyncSession, bid: Row, transaction: Row) -> None:
    await journal.post(session, event_key=f"exchange:txn:{transaction.id}:award",
                       kind="exchange.award", moves=[Move(
                           held_for_bid(bid.id), held_for_transaction(transaction.id),
                           bid.amount, bid.currency)])


async def pay(session: AsyncSession, transaction: Row) -> None:
    await journal.post(session, event_key=f"exchange:txn:{transaction.id}:pay",
                       kind="exchange.pay", moves=[Move(
                           accounts.available(transaction.buyer_id),
                           held_for_transaction(transaction.id), transaction.price,
                           transaction.currency)])


async def release(session: AsyncSession, transaction: Row) -> None:
    """The seller gets the price minus the fee fixed when the transaction began."""
    held = held_for_transaction(transaction.id)
    moves = [Move(held, target, amount, transaction.currency) for target, amount in (
        (accounts.available(transaction.seller_id), transaction.price - transaction.fee),
        (accounts.fees(), transaction.fee)) if amount > 0]
    if moves:
        await journal.post(session, event_key=f"exchange:txn:{transaction.id}:release",
                           kind="exchange.release", moves=moves)


async def refund(session: AsyncSession, transaction: Row) -> None:
    if transaction.price > 0:
        await journal.post(session, event_key=f"exchange:txn:{transaction.id}:refund",
                           kind="exchange.refund", moves=[Move(
                               held_for_transaction(transaction.id),
                               accounts.available(transaction.buyer_id), transaction.price,
                               transaction.currency)])


# A transaction in these holds its price in escrow.
HELD_STATUSES = ("paid", "handed_over", "disputed")
# What each escrow account of the exchange should hold now (`panamia ledger check`): every
# leading bid its amount, every paid transaction not yet released or refunded its price.
HELD_FUNDS = f"""
SELECT '{BID}' AS ref_type, id AS ref_id, currency, amount
  FROM exchange_bids WHERE status = 'leading'
UNION ALL
SELECT '{TRANSACTION}', id, currency, price
  FROM exchange_transactions WHERE status IN ({", ".join(f"'{s}'" for s in HELD_STATUSES)})
   AND price > 0
"""
