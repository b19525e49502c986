"""Bidding and closing auctions.

A bid is ONE conditional UPDATE of the auction's listing row: it raises the high bid only if
the auction is open, has not ended (`statement_timestamp() < ends_at`), is not the bidder's
own, the bidder does not lead already, and the amount beats the high bid by the increment
(or reaches the start price). In the same statement a bid in the last two minutes pushes the
end to two minutes after it. Two bids racing on one auction take the row lock in turn; the
second re-checks the WHERE against what the first committed, so of two equal bids one wins
and one changes nothing. Then, under that row lock and in the same transaction: the bid that
led is marked outbid, the new one inserted as leading, and one ledger entry holds the new
bid's money and pays the outbid bid back. When nothing changed, a second look at the row says
why (404, 403, or 409 naming the amount to beat).

An auction ends in the sweep (`close_ended`), one compare-and-swap UPDATE over the auctions
past their end: the highest bid at or above the reserve wins and becomes a transaction, its
money moving into the transaction's escrow; otherwise the leading bid is paid back.
"""

from datetime import datetime, timedelta

from sqlalchemy import Row, Update, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id
from panamia.errors import Conflict, Forbidden, NotFound
from panamia.exchange import money, notices
from panamia.exchange.idempotent import create
from panamia.exchange.listings import find, minimum_bid
from panamia.exchange.models import ExchangeBid, ExchangeListing, ExchangeTransaction
from panamia.exchange.schemas import BidCreate, BidPlaced, BidView
from panamia.exchange.states import Status
from panamia.identity.dependencies import Principal
from panamia.identity.models import User
from panamia.resources import Resources
from panamia.sidecar import idempotency
from panamia.sidecar.pages import money as shown

SOFT_CLOSE = timedelta(minutes=2)
listings, bids = ExchangeListing.__table__, ExchangeBid.__table__
transactions, users = ExchangeTransaction.__table__, User.__table__
NOW = func.statement_timestamp()


def raise_bid(listing_id: str, bidder_id: str, amount) -> Update:
    """The one conditional UPDATE of a bid (see the module's docstring)."""
    return (
        update(listings)
        .where(listings.c.id == listing_id, listings.c.kind == "auction",
               listings.c.status == "open", NOW < listings.c.ends_at,
               listings.c.seller_id != bidder_id,
               listings.c.high_bidder_id.is_distinct_from(bidder_id),
               amount >= func.coalesce(listings.c.high_bid + listings.c.min_increment,
                                       listings.c.start_price))
        .values(high_bid=amount, high_bidder_id=bidder_id, bid_count=listings.c.bid_count + 1,
                ends_at=func.greatest(listings.c.ends_at, NOW + SOFT_CLOSE), updated_at=NOW)
        .returning(listings.c.id, listings.c.title, listings.c.seller_id, listings.c.currency,
                   listings.c.ends_at)
    )


def refusal(row: Row | None, bidder_id: str) -> Exception:
    """Why the bid changed nothing, from the auction as it is now."""
    if row is None or row.kind != "auction":
        return NotFound("No auction with this id.", error="auction not found")
    if row.seller_id == bidder_id:
        return Forbidden("You cannot bid on your own auction.")
    if row.status != "open" or row.ends_at <= datetime.now(row.ends_at.tzinfo):
        return Conflict(f"The auction ended on {row.ends_at:%Y-%m-%d %H:%M} UTC; it takes no "
                        "more bids.", error="auction ended")
    if row.high_bidder_id == bidder_id:
        return Conflict(f"Yours is already the highest bid ({shown(row.high_bid, row.currency)}).",
                        error="already leading")
    least = shown(minimum_bid(row), row.currency)
    if row.high_bid is None:
        return Conflict(f"Bid at least {least}: the starting price.", error="bid too low")
    return Conflict(f"Bid at least {least}: the highest bid is "
                    f"{shown(row.high_bid, row.currency)} and bids go up by "
                    f"{shown(row.min_increment, row.currency)}.", error="bid too low")


async def place_bid(resources: Resources, user: Principal, listing_id: str, body: BidCreate,
                    key: str | None) -> idempotency.Answer:
    async def make(session: AsyncSession, now: datetime) -> dict:
        auction = (await session.execute(raise_bid(listing_id, user.id, body.amount))).first()
        if auction is None:
            raise refusal(await find(session, listing_id), user.id)
        outbid = (await session.execute(
            update(bids).where(bids.c.listing_id == listing_id, bids.c.status == "leading")
            .values(status="outbid").returning(*bids.c))).first()
        # Stamped when it took the lead (the transaction may have waited for the row lock),
        # so the history's order is the order the bids led in.
        bid = (await session.execute(insert(bids).values(
            id=new_id(), listing_id=listing_id, bidder_id=user.id, amount=body.amount,
            currency=auction.currency, status="leading", created_at=NOW,
        ).returning(*bids.c))).one()
        await money.hold_bid(session, bid, outbid)
        await tell_bid(session, resources, auction, bid, outbid)
        placed = BidPlaced.model_validate({**bid._asdict(), "ends_at": auction.ends_at})
        return placed.model_dump(mode="json", by_alias=True)

    return await create(resources, user, key, scope="exchange.bids",
                        operation=f"POST /listings/{listing_id}/bids",
                        body=body.model_dump(mode="json"), make=make)


async def tell_bid(session: AsyncSession, resources: Resources, auction: Row, bid: Row,
                   outbid: Row | None) -> None:
    amount = shown(bid.amount, bid.currency)
    await notices.tell(session, "Create", notices.item(
        resources.settings, auction.id, f"New bid of {amount} on {auction.title}"),
        actor_id=bid.bidder_id, parties=(bid.bidder_id, auction.seller_id))
    if outbid is not None:
        await notices.tell(session, "Update", notices.item(
            resources.settings, auction.id,
            f"Outbid on {auction.title}: the highest bid is now {amount}; your "
            f"{shown(outbid.amount, outbid.currency)} is available again"),
            actor_id=bid.bidder_id, parties=(bid.bidder_id, outbid.bidder_id))


async def bid_history(resources: Resources, listing_id: str) -> list[BidView]:
    """Highest first, each with its bidder's screenname (public, as at any auction)."""
    async with resources.reads() as session:
        if await find(session, listing_id) is None:
            raise NotFound("No listing with this id.", error="listing not found")
        rows = await session.execute(
            select(*bids.c, users.c.screenname.label("bidder_screenname"))
            .join_from(bids, users, users.c.id == bids.c.bidder_id)
            .where(bids.c.listing_id == listing_id)
            .order_by(bids.c.amount.desc(), bids.c.created_at).limit(200))
    return [BidView.model_validate(row._asdict()) for row in rows]


async def close_ended(resources: Resources, now: datetime, *, batch_size: int) -> int:
    """Close the open auctions whose end has passed; returns how many. SKIP LOCKED: an auction
    whose row a bid holds is left to the next sweep, which sees the extended end."""
    closed = 0
    while True:
        async with resources.db.begin() as session:
            due = (select(listings.c.id).where(
                listings.c.kind == "auction", listings.c.status == "open",
                listings.c.ends_at <= now).order_by(listings.c.ends_at).limit(batch_size)
                .with_for_update(skip_locked=True))
            won = (listings.c.high_bid.is_not(None)
                   & (listings.c.high_bid >= func.coalesce(listings.c.reserve_price, 0)))
            ended = (await session.execute(
                update(listings)
                .where(listings.c.id.in_(due.scalar_subquery()), listings.c.status == "open",
                       listings.c.ends_at <= now)
                .values(status=case((won, "taken"), else_="closed"), closed_at=now,
                        updated_at=now)
                .returning(*listings.c))).all()
            for auction in ended:
                await settle(session, resources, auction, now)
        closed += len(ended)
        if len(ended) < batch_size:
            return closed


async def settle(session: AsyncSession, resources: Resources, auction: Row,
                 now: datetime) -> None:
    """A won auction's leading bid becomes a paid transaction; a lost one's is paid back."""
    outcome = "won" if auction.status == "taken" else "lost"
    bid = (await session.execute(
        update(bids).where(bids.c.listing_id == auction.id, bids.c.status == "leading")
        .values(status=outcome).returning(*bids.c))).first()
    if bid is None:
        summary = f"Your auction of {auction.title} ended without bids"
    elif outcome == "lost":
        await money.release_lost_bid(session, bid)
        summary = (f"The auction of {auction.title} ended below the reserve price: no sale, "
                   "and the highest bid was paid back")
    else:
        transaction = (await session.execute(insert(transactions).values(
            id=new_id(), listing_id=auction.id, seller_id=auction.seller_id,
            buyer_id=bid.bidder_id, kind="auction", bid_id=bid.id, price=bid.amount,
            fee=money.fee_of(bid.amount), currency=bid.currency, status=Status.PAID.value,
            paid_at=now).returning(*transactions.c))).one()
        await money.award(session, bid, transaction)
        summary = (f"The auction of {auction.title} was won for "
                   f"{shown(bid.amount, bid.currency)}; the money is held until the handover")
    parties = (auction.seller_id,) if bid is None else (auction.seller_id, bid.bidder_id)
    await notices.tell(session, "Update", notices.item(resources.settings, auction.id, summary),
                       actor_id=None, parties=parties)
