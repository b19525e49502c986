"""The demo exchange: seeded after the demo people, once however often it runs."""

from decimal import Decimal

from sqlalchemy import text

from panamia import demo
from panamia.exchange import demo as exchange_demo
from tests.exchange.factories import available, held

COUNTS = text("""
SELECT (SELECT count(*) FROM exchange_listings), (SELECT count(*) FROM exchange_bids),
       (SELECT count(*) FROM exchange_offers), (SELECT count(*) FROM exchange_transactions)
""")


async def test_seeded_once_with_money_bids_offers_and_a_paid_purchase(resources):
    await demo.add_people(resources)
    await exchange_demo.seed(resources)
    async with resources.reads() as session:
        first = tuple((await session.execute(COUNTS)).one())
    await exchange_demo.seed(resources)
    async with resources.reads() as session:
        assert tuple((await session.execute(COUNTS)).one()) == first == (7, 3, 2, 1)
        kinds = {row.kind for row in await session.execute(text(
            "SELECT kind FROM exchange_listings"))}
        leading = (await session.execute(text(
            "SELECT id FROM exchange_bids WHERE status = 'leading'"))).scalar_one()
        deal = (await session.execute(text(
            "SELECT id, status FROM exchange_transactions"))).one()
    assert kinds == {"sale", "auction", "swap", "free"}
    assert await held(resources, "exchange_bid", leading) == Decimal("120.00")
    assert deal.status == "paid"
    assert await held(resources, "exchange_transaction", deal.id) == Decimal("40.00")
    # Ana leads the auction with 120 and her 100 was paid back.
    assert await available(resources, demo.user_id("ana")) == Decimal("380.00")


async def test_reset_gives_the_held_money_back_before_deleting(resources):
    await demo.add_people(resources)
    await exchange_demo.seed(resources)
    await exchange_demo.reset(resources)
    async with resources.reads() as session:
        assert tuple((await session.execute(COUNTS)).one()) == (0, 0, 0, 0)
    assert await available(resources, demo.user_id("ana")) == Decimal("500.00")
    assert await available(resources, demo.user_id("lucia")) == Decimal("500.00")
