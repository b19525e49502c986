"""Transactions: begun by a purchase, an accepted offer or a won auction, then taken step by
step through `TRANSACTIONS` (see `states`). Each step is one conditional UPDATE, and the money
it moves is posted in the same database transaction: paying holds the price in escrow,
completing releases it to the seller minus the fee, a refund pays the buyer back."""

from datetime import datetime

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id
from panamia.errors import Conflict, Forbidden, NotFound
from panamia.exchange import money, notices
from panamia.exchange.idempotent import create
from panamia.exchange.listings import decline_pending, find, tell_declined
from panamia.exchange.models import ExchangeListing, ExchangeTransaction
from panamia.exchange.schemas import TransactionView
from panamia.exchange.states import (
    HANDOVER_WINDOW,
    PAYMENT_TIME,
    RELEASING,
    STEPS,
    TRANSACTIONS,
    Status,
)
from panamia.identity.dependencies import Principal
from panamia.resources import Resources
from panamia.sidecar import idempotency
from panamia.sidecar.pages import money as shown

listings, transactions = ExchangeListing.__table__, ExchangeTransaction.__table__
VIEW = select(*transactions.c, listings.c.title.label("listing_title")).join_from(
    transactions, listings, listings.c.id == transactions.c.listing_id)
MAX_PAGE_SIZE = 100


def to_view(row: Row) -> TransactionView:
    return TransactionView.model_validate(row._asdict())


async def read(session: AsyncSession, transaction_id: str) -> Row | None:
    return (await session.execute(VIEW.where(transactions.c.id == transaction_id))).first()


async def begin(session: AsyncSession, listing: Row, buyer_id: str, price, now: datetime,
                **links) -> Row:
    """A new transaction for `listing`: awaiting payment for `PAYMENT_TIME`, or, with nothing
    to pay, ready for the handover at once."""
    to_pay = price > 0
    return (await session.execute(insert(transactions).values(
        id=new_id(), listing_id=listing.id, seller_id=listing.seller_id, buyer_id=buyer_id,
        kind=listing.kind, price=price, fee=money.fee_of(price), currency=listing.currency,
        status=(Status.AWAITING_PAYMENT if to_pay else Status.PAID).value,
        pay_by=now + PAYMENT_TIME if to_pay else None, **links,
    ).returning(*transactions.c))).one()


async def tell_begun(session: AsyncSession, resources: Resources, row: Row, title: str,
                     actor_id: str) -> None:
    owed = (f"{shown(row.price, row.currency)} to pay by {row.pay_by:%Y-%m-%d %H:%M} UTC"
            if row.status == Status.AWAITING_PAYMENT else "nothing to pay")
    await notices.tell(session, "Create", notices.transaction(
        resources.settings, row.id, f"{title}: agreed, {owed}"),
        actor_id=actor_id, parties=(row.buyer_id, row.seller_id))


async def buy(resources: Resources, user: Principal, listing_id: str,
              key: str | None) -> idempotency.Answer:
    """Buy a listed sale at its price: the listing is taken and its pending offers declined."""
    async def make(session: AsyncSession, now: datetime) -> dict:
        listing = await find(session, listing_id, lock=True)
        if listing is None:
            raise NotFound("No listing with this id.", error="listing not found")
        if listing.seller_id == user.id:
            raise Forbidden("You cannot buy your own listing.")
        if listing.kind != "sale":
            raise Conflict(f"This is a {listing.kind} listing: only sales are bought at a price.")
        if listing.status != "open":
            raise Conflict(f"The listing is {listing.status}; someone else got it first.")
        await session.execute(update(listings).where(listings.c.id == listing_id)
                              .values(status="taken", updated_at=now))
        row = await begin(session, listing, user.id, listing.price, now)
        declined = await decline_pending(session, [listing_id], now, by=listing.seller_id)
        await tell_declined(session, resources, declined, listing.title, listing.seller_id)
        await tell_begun(session, resources, row, listing.title, user.id)
        return to_view(await read(session, row.id)).model_dump(mode="json", by_alias=True)

    return await create(resources, user, key, scope="exchange.purchases",
                        operation=f"POST /listings/{listing_id}/buy", body={}, make=make)


async def settle(session: AsyncSession, resources: Resources, name: str, row: Row,
                 actor_id: str | None) -> None:
    """What follows a step, in its transaction: the money, the listing, the notice."""
    if name == "pay":
        await money.pay(session, row)
    elif name in RELEASING:
        await money.release(session, row)
    elif name == "refund":
        await money.refund(session, row)
    elif row.status == Status.CANCELLED and row.kind != "auction":
        await session.execute(update(listings).where(
            listings.c.id == row.listing_id, listings.c.status == "taken").values(status="open"))
    title = (await session.execute(
        select(listings.c.title).where(listings.c.id == row.listing_id))).scalar_one()
    await notices.tell(session, "Update", notices.transaction(
        resources.settings, row.id, f"{STEPS[name].announced()}: {title}"),
        actor_id=actor_id, parties=(row.buyer_id, row.seller_id))


async def step(resources: Resources, user: Principal, transaction_id: str, name: str,
               now: datetime, *, reason: str | None = None) -> TransactionView:
    """pay, hand_over, confirm, cancel, dispute; refund and release (administrators only)."""
    values = {}
    if name == "hand_over":
        values["auto_complete_at"] = now + HANDOVER_WINDOW
    if name == "dispute":
        values["dispute_reason"] = reason
    async with resources.db.begin() as session:
        row = await TRANSACTIONS.take(session, name, transaction_id, user, now,
                                      returning=transactions.c, values=values)
        await settle(session, resources, name, row, user.id)
        return to_view(await read(session, transaction_id))


async def get_transaction(resources: Resources, user: Principal,
                          transaction_id: str) -> TransactionView:
    """Its buyer, its seller and administrators see it; to anyone else it does not exist."""
    async with resources.reads() as session:
        row = await read(session, transaction_id)
    if row is None or not TRANSACTIONS.visible(user, row):
        raise NotFound("No transaction with this id is visible to you.")
    return to_view(row)


async def transactions_of(resources: Resources, user: Principal, *, role: str | None,
                          limit: int = MAX_PAGE_SIZE) -> list[TransactionView]:
    """Newest first; as buyer, as seller, or both."""
    mine = {"buyer": transactions.c.buyer_id == user.id,
            "seller": transactions.c.seller_id == user.id}
    where = mine[role] if role else or_(*mine.values())
    async with resources.reads() as session:
        rows = await session.execute(VIEW.where(where).order_by(
            transactions.c.created_at.desc(), transactions.c.id.desc()).limit(limit))
    return [to_view(row) for row in rows]


async def disputed(resources: Resources, user: Principal) -> list[TransactionView]:
    """Every disputed transaction, oldest dispute first: administrators only."""
    if not user.is_admin:
        raise Forbidden("Only administrators settle disputes.")
    async with resources.reads() as session:
        rows = await session.execute(VIEW.where(transactions.c.status == Status.DISPUTED.value)
                                     .order_by(transactions.c.disputed_at).limit(MAX_PAGE_SIZE))
    return [to_view(row) for row in rows]


async def sweep_batch(resources: Resources, name: str, due, now: datetime,
                      batch_size: int) -> int:
    """One system step (`cancel_unpaid`, `auto_complete`) over every transaction `due` at
    `now`, each a compare-and-swap on its status, with what follows it; returns how many."""
    done = 0
    declared = STEPS[name]
    while True:
        async with resources.db.begin() as session:
            picked = (select(transactions.c.id).where(
                transactions.c.status.in_([str(s) for s in declared.sources]), due)
                .limit(batch_size).with_for_update(skip_locked=True))
            rows = (await session.execute(
                update(transactions)
                .where(transactions.c.id.in_(picked.scalar_subquery()),
                       transactions.c.status.in_([str(s) for s in declared.sources]), due)
                .values(**TRANSACTIONS.values(declared, now, None))
                .returning(*transactions.c))).all()
            for row in rows:
                await settle(session, resources, name, row, None)
        done += len(rows)
        if len(rows) < batch_size:
            return done
