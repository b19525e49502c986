"""Demo exchange for `panamia dev`: every demo member gets $500 through the manual provider,
and there are sales (one open to offers, with an offer), an auction with bids, swaps, free
things, and a purchase already paid. Run by `panamia.demo.seed` after the demo people exist.

Listings have fixed ids (`demo-item-guitar`) and are inserted only when missing; deposits,
bids, offers and the purchase go through the services with fixed references and
`Idempotency-Key`s, so a second run adds nothing (a step already taken is refused and left).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from panamia import demo
from panamia.errors import Conflict
from panamia.exchange import auctions, money, offers, transactions
from panamia.exchange.models import ExchangeBid, ExchangeListing, ExchangeTransaction
from panamia.exchange.schemas import BidCreate, ListingCreate, OfferCreate
from panamia.ledger.providers import manual
from panamia.resources import Resources

DEPOSIT = Decimal("500.00")
BASE = {"condition": "good", "city": "Miami"}
ITEMS = {
    "bike": ("sofia", {"kind": "sale", "title": "Road bike, 54 cm", "category": "bikes",
                       "price": "180.00", "open_to_offers": True,
                       "description": "Aluminium frame, new tyres. Rides like a dream on the "
                                      "Rickenbacker causeway."}),
    "bookshelf": ("maria", {"kind": "sale", "title": "Oak bookshelf", "category": "furniture",
                            "price": "40.00", "city": "Coral Gables"}),
    "guitar": ("devon", {"kind": "auction", "title": "1970s nylon-string guitar",
                         "category": "music", "condition": "fair", "start_price": "100.00",
                         "reserve_price": "150.00", "min_increment": "5.00",
                         "description": "Warm sound, a few honest scratches."}),
    "games": ("jean", {"kind": "swap", "title": "Three board games", "category": "games",
                       "description": "Catan, Carcassonne and Ticket to Ride. Swap for "
                                      "anything for kids."}),
    "books": ("lucia", {"kind": "swap", "title": "A box of children's books",
                        "category": "books", "condition": "like_new"}),
    "boxes": ("tomas", {"kind": "free", "title": "Moving boxes, about twenty",
                        "category": "household", "city": "Hialeah"}),
    "seedlings": ("ana", {"kind": "free", "title": "Mango seedlings", "category": "garden",
                          "condition": "new", "description": "From our tree on Calle Ocho."}),
}
BIDS = (("ana", "100.00"), ("marco", "110.00"), ("ana", "120.00"))


def item_id(key: str) -> str:
    return f"demo-item-{key}"


def person(key: str):
    return demo.acting_as(next(p for p in demo.PEOPLE if p.key == key))


async def add_money(resources: Resources) -> None:
    async with resources.db.begin() as session:
        for someone in demo.PEOPLE:
            await manual.deposit(session, user_id=demo.user_id(someone.key), amount=DEPOSIT,
                                 currency="USD", reference=f"demo-exchange-{someone.key}",
                                 recorded_by=None)


async def add_listings(resources: Resources, now: datetime) -> None:
    rows = []
    for key, (seller, spec) in ITEMS.items():
        if spec["kind"] == "auction":
            spec = {**spec, "ends_at": now + timedelta(days=3)}
        body = ListingCreate.model_validate({**BASE, **spec})
        rows.append({"id": item_id(key), "seller_id": demo.user_id(seller), **body.model_dump()})
    async with resources.db.begin() as session:
        await session.execute(pg_insert(ExchangeListing).values(rows).on_conflict_do_nothing())


async def add_dealings(resources: Resources) -> None:
    """Bids, an offer, a swap offer and a paid purchase, each through its service."""
    for number, (bidder, amount) in enumerate(BIDS):
        await auctions.place_bid(resources, person(bidder), item_id("guitar"),
                                 BidCreate(amount=Decimal(amount)), f"demo-bid-{number}")
    await offers.make_offer(resources, person("marco"), item_id("bike"),
                            OfferCreate(amount=Decimal("150.00"), message="Cash today?"),
                            "demo-offer-bike")
    await offers.make_offer(resources, person("lucia"), item_id("games"),
                            OfferCreate(swap_listing_id=item_id("books")), "demo-offer-games")
    bought = await transactions.buy(resources, person("lucia"), item_id("bookshelf"),
                                    "demo-buy-bookshelf")
    try:
        await transactions.step(resources, person("lucia"), bought.body["id"], "pay",
                                datetime.now(UTC))
    except Conflict:
        pass  # paid by an earlier run


async def seed(resources: Resources) -> None:
    await add_money(resources)
    await add_listings(resources, datetime.now(UTC))
    await add_dealings(resources)


async def reset(resources: Resources) -> None:
    """Before `demo reset` deletes the demo people: the money their leading bids and open
    transactions hold goes back to the bidders and buyers (the ledger keeps its entries, and
    `panamia ledger check` expects no escrow without its row), then their listings go, with
    the bids, offers and transactions that hang on them."""
    ids = [demo.user_id(p.key) for p in demo.PEOPLE]
    theirs = or_(ExchangeListing.seller_id.in_(ids), ExchangeBid.bidder_id.in_(ids))
    dealt = or_(ExchangeTransaction.buyer_id.in_(ids), ExchangeTransaction.seller_id.in_(ids))
    async with resources.db.begin() as session:
        for bid in await session.execute(
                select(ExchangeBid.__table__).join(ExchangeListing)
                .where(ExchangeBid.status == "leading", theirs)):
            await money.release_lost_bid(session, bid)
        for held in await session.execute(select(ExchangeTransaction.__table__).where(
                ExchangeTransaction.status.in_(money.HELD_STATUSES), dealt)):
            await money.refund(session, held)
        await session.execute(delete(ExchangeTransaction).where(dealt))
        await session.execute(delete(ExchangeListing).where(ExchangeListing.seller_id.in_(ids)))
