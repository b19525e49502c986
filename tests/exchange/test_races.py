"""Races between connections, on a database whose transactions commit: many members buying
one item, an offer accepted while the item is bought, and two sweeps closing the same
auctions. Each thing happens once."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from panamia.errors import Conflict
from panamia.exchange import auctions, listings, offers, sweep, transactions
from panamia.exchange.schemas import BidCreate, ListingCreate, OfferCreate
from tests.exchange.factories import auction, available, deposit, sale
from tests.identity.factories import create_user
from tests.profiles.factories import principal


async def person(resources, money: str = "1000.00"):
    user_id = await create_user(resources)
    await deposit(resources, user_id, money)
    return principal(user_id)


async def listing(resources, seller, body: dict) -> str:
    made = await listings.create_listing(resources, seller, ListingCreate.model_validate(body),
                                         None)
    return made.body["id"]


async def outcome(call) -> str:
    try:
        return str((await call).status)
    except Conflict:
        return "409"


async def test_one_buyer_among_many(own_database):
    resources = own_database
    seller = await person(resources)
    item = await listing(resources, seller, sale())
    buyers = [await person(resources) for _ in range(12)]
    results = await asyncio.gather(*(outcome(transactions.buy(resources, buyer, item, None))
                                     for buyer in buyers))
    assert sorted(results) == ["201"] + ["409"] * 11
    async with resources.reads() as db:
        assert (await db.execute(text(
            "SELECT count(*) FROM exchange_transactions WHERE listing_id = :id"), {"id": item}
        )).scalar_one() == 1


async def test_an_offer_accepted_while_the_item_is_bought(own_database):
    resources = own_database
    seller, ana, ben = [await person(resources) for _ in range(3)]
    item = await listing(resources, seller, sale(openToOffers=True))
    made = await offers.make_offer(resources, ana, item, OfferCreate(amount=Decimal(80)), None)
    now = datetime.now(UTC)
    accept = offers.answer(resources, seller, made.body["id"], "accept", now)
    results = await asyncio.gather(outcome(transactions.buy(resources, ben, item, None)),
                                   accept, return_exceptions=True)
    async with resources.reads() as db:
        deals = (await db.execute(text(
            "SELECT buyer_id FROM exchange_transactions WHERE listing_id = :id"), {"id": item}
        )).scalars().all()
        offer_status = (await db.execute(text(
            "SELECT status FROM exchange_offers WHERE id = :id"), {"id": made.body["id"]}
        )).scalar_one()
    assert len(deals) == 1
    if deals[0] == ben.id:
        assert results[0] == "201" and isinstance(results[1], Conflict)
        assert offer_status == "declined"
    else:
        assert results[0] == "409" and offer_status == "accepted"


async def test_two_sweeps_close_each_auction_once(own_database):
    resources = own_database
    seller, ana = await person(resources), await person(resources)
    items = [await listing(resources, seller, auction()) for _ in range(6)]
    for item in items:
        await auctions.place_bid(resources, ana, item, BidCreate(amount=Decimal(50)), None)
    async with resources.db.begin() as db:
        await db.execute(text("UPDATE exchange_listings SET ends_at = now() - interval '1 s'"))
    later = datetime.now(UTC) + timedelta(seconds=1)
    swept = await asyncio.gather(sweep.sweep(resources, later), sweep.sweep(resources, later))
    assert sum(s.auctions_closed for s in swept) == 6
    async with resources.reads() as db:
        assert (await db.execute(text("SELECT count(*) FROM exchange_transactions"))
                ).scalar_one() == 6
    assert await available(resources, ana.id) == Decimal("700.00")
