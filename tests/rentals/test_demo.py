"""The demo rentals: seeded after the demo people, once however often it runs, with the
money of each step in the ledger as `panamia ledger check` expects it."""

from decimal import Decimal

from sqlalchemy import text

from panamia import demo
from panamia.ledger import check
from panamia.rentals import demo as rentals_demo
from panamia.rentals.money import HELD_FUNDS
from tests.rentals.factories import available

STATUSES = text("SELECT id, status FROM rentals ORDER BY id")


async def test_seeded_once_with_rentals_in_several_states_and_their_money(resources):
    await demo.add_people(resources)
    await rentals_demo.seed(resources)
    async with resources.reads() as session:
        first = dict((await session.execute(STATUSES)).all())
    await rentals_demo.seed(resources)
    async with resources.reads() as session:
        assert dict((await session.execute(STATUSES)).all()) == first
        items = (await session.execute(text("SELECT count(*) FROM rental_items"))).scalar_one()
    assert items == 5
    assert first == {"demo-rental-1": "requested", "demo-rental-2": "confirmed",
                     "demo-rental-3": "picked_up", "demo-rental-4": "returned",
                     "demo-rental-5": "claimed", "demo-rental-6": "declined"}
    # Lucía paid $18 for 3 hours of the cargo bike, and was paid a day of her camera ($35)
    # less 10% when Ana brought it back damaged; Sofía's days are still held.
    assert await available(resources, demo.user_id("lucia")) == Decimal("413.50")
    report = await check.check(resources, {"rentals": HELD_FUNDS})
    assert [d for d in report.differences if "rental:" in d] == []
