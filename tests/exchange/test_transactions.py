"""A transaction from purchase to completion: who takes each step, the money at each, the
platform fee, disputes, and the timers (moved by updating their columns)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from panamia.exchange import sweep
from tests.exchange.factories import available, fees, held, listed, sale, set_column


async def bought(seller, buyer, price: str = "100.00") -> dict:
    item = await listed(seller, sale(price=price))
    answer = await buyer.post(f"/listings/{item['id']}/buy")
    assert answer.status_code == 201, answer.text
    return answer.json()


async def step(member, deal: dict, name: str, body: dict | None = None):
    return await member.post(f"/transactions/{deal['id']}/{name}", body)


class TestHappyPath:
    async def test_paid_held_handed_over_confirmed_released_minus_the_fee(
            self, members, resources):
        async with members(money="0") as seller, members() as buyer:
            deal = await bought(seller, buyer, "10.10")
            assert deal["status"] == "awaiting_payment"
            assert (await step(seller, deal, "pay")).status_code == 403
            paid = await step(buyer, deal, "pay")
            assert paid.json()["status"] == "paid"
            assert await available(resources, buyer.id) == Decimal("989.90")
            assert await held(resources, "exchange_transaction", deal["id"]) == Decimal("10.10")
            assert (await step(buyer, deal, "hand-over")).status_code == 403
            handed = (await step(seller, deal, "hand-over")).json()
            assert handed["status"] == "handed_over"
            assert datetime.fromisoformat(handed["autoCompleteAt"]) > \
                datetime.now(UTC) + timedelta(days=6)
            fees_before = await fees(resources)
            done = (await step(buyer, deal, "confirm")).json()
            assert done["status"] == "completed"
            # 5 % of 10.10 is 0.505: half to even gives 0.50, the seller 9.60.
            assert await available(resources, seller.id) == Decimal("9.60")
            assert await fees(resources) - fees_before == Decimal("0.50")
            assert await held(resources, "exchange_transaction", deal["id"]) == 0

    async def test_the_same_item_is_bought_once(self, members):
        async with members() as seller, members() as ana, members() as ben:
            deal = await bought(seller, ana)
            late = await ben.post(f"/listings/{deal['listingId']}/buy")
            assert late.status_code == 409
            assert (await seller.post(f"/listings/{deal['listingId']}/buy")).status_code == 403

    async def test_paying_beyond_ones_money_is_refused(self, members, resources):
        async with members() as seller, members(money="20.00") as buyer:
            deal = await bought(seller, buyer)
            refused = await step(buyer, deal, "pay")
            assert refused.status_code == 409
            assert "Not enough money" in refused.json()["detail"]
            assert (await buyer.get(f"/transactions/{deal['id']}")).json()["status"] == \
                "awaiting_payment"
            assert await available(resources, buyer.id) == Decimal("20.00")

    async def test_strangers_do_not_see_it(self, members):
        async with members() as seller, members() as buyer, members() as stranger:
            deal = await bought(seller, buyer)
            assert (await stranger.get(f"/transactions/{deal['id']}")).status_code == 404
            assert (await step(stranger, deal, "cancel")).status_code == 404


class TestTimers:
    async def test_unpaid_after_48_hours_is_cancelled_and_the_listing_opens_again(
            self, members, resources):
        async with members() as seller, members() as buyer:
            deal = await bought(seller, buyer)
            await set_column(resources, "exchange_transactions", deal["id"],
                             pay_by=datetime.now(UTC) - timedelta(seconds=1))
            late = await step(buyer, deal, "pay")
            assert late.status_code == 409
            assert "time to pay ran out" in late.json()["detail"]
            assert (await sweep.sweep(resources, datetime.now(UTC))).unpaid_cancelled == 1
            assert (await buyer.get(f"/transactions/{deal['id']}")).json()["status"] == \
                "cancelled"
            assert (await buyer.get(f"/listings/{deal['listingId']}")).json()["status"] == "open"

    async def test_handed_over_completes_by_itself_after_the_window(self, members, resources):
        async with members(money="0") as seller, members() as buyer:
            deal = await bought(seller, buyer)
            await step(buyer, deal, "pay")
            await step(seller, deal, "hand-over")
            assert (await sweep.sweep(resources, datetime.now(UTC))).auto_completed == 0
            await set_column(resources, "exchange_transactions", deal["id"],
                             auto_complete_at=datetime.now(UTC) - timedelta(seconds=1))
            assert (await sweep.sweep(resources, datetime.now(UTC))).auto_completed == 1
            assert (await seller.get(f"/transactions/{deal['id']}")).json()["status"] == \
                "completed"
            assert await available(resources, seller.id) == Decimal("95.00")


class TestDispute:
    async def disputed(self, seller, buyer, resources) -> dict:
        deal = await bought(seller, buyer)
        await step(buyer, deal, "pay")
        await step(seller, deal, "hand-over")
        frozen = await step(buyer, deal, "dispute", {"reason": "It does not ride."})
        assert frozen.json()["status"] == "disputed", frozen.text
        await set_column(resources, "exchange_transactions", deal["id"],
                         auto_complete_at=datetime.now(UTC) - timedelta(seconds=1))
        assert (await sweep.sweep(resources, datetime.now(UTC))).auto_completed == 0
        return deal

    async def test_a_dispute_freezes_it_until_an_admin_refunds(self, members, resources):
        async with members() as seller, members() as buyer, members(role="admin") as admin:
            deal = await self.disputed(seller, buyer, resources)
            assert (await step(buyer, deal, "confirm")).status_code == 409
            assert (await step(buyer, deal, "refund")).status_code == 403
            refunded = await step(admin, deal, "refund")
            assert refunded.json()["status"] == "refunded", refunded.text
            assert await available(resources, buyer.id) == Decimal("1000.00")
            assert await held(resources, "exchange_transaction", deal["id"]) == 0

    async def test_or_releases_it_to_the_seller(self, members, resources):
        async with members(money="0") as seller, members() as buyer, \
                members(role="admin") as admin:
            deal = await self.disputed(seller, buyer, resources)
            released = await step(admin, deal, "release")
            assert released.json()["status"] == "completed"
            assert await available(resources, seller.id) == Decimal("95.00")
            assert (await step(admin, deal, "refund")).status_code == 409

    async def test_no_dispute_before_payment(self, members):
        async with members() as seller, members() as buyer:
            deal = await bought(seller, buyer)
            early = await step(buyer, deal, "dispute", {"reason": "Hm."})
            assert early.status_code == 409
