"""Bidding: the increment (409 naming the amount to beat), the soft close, one's own auction,
the money held and paid back, and how an auction ends."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from panamia.exchange import sweep
from tests.exchange.factories import auction, available, held, listed, set_column


async def bid(member, listing_id: str, amount: str, **headers):
    return await member.post(f"/listings/{listing_id}/bids", {"amount": amount}, **headers)


class TestBidding:
    async def test_a_bid_must_beat_the_high_bid_by_the_increment(self, members):
        async with members() as seller, members() as ana, members() as ben:
            item = await listed(seller, auction())
            low = await bid(ana, item["id"], "49.99")
            assert low.status_code == 409
            assert "$50.00" in low.json()["detail"]
            assert (await bid(ana, item["id"], "50.00")).status_code == 201
            short = await bid(ben, item["id"], "54.99")
            assert short.status_code == 409
            assert "Bid at least $55.00" in short.json()["detail"]
            assert (await bid(ben, item["id"], "55.00")).status_code == 201
            shown = (await ben.get(f"/listings/{item['id']}")).json()
            assert (shown["highBid"], shown["minimumBid"], shown["bidCount"]) == \
                ("55.00", "60.00", 2)

    async def test_no_bidding_on_ones_own_auction(self, members):
        async with members() as seller:
            item = await listed(seller, auction())
            refused = await bid(seller, item["id"], "60.00")
            assert refused.status_code == 403
            assert "own auction" in refused.json()["detail"]

    async def test_the_leader_cannot_outbid_themselves(self, members):
        async with members() as seller, members() as ana:
            item = await listed(seller, auction())
            assert (await bid(ana, item["id"], "50.00")).status_code == 201
            again = await bid(ana, item["id"], "80.00")
            assert again.status_code == 409
            assert "already the highest bid" in again.json()["detail"]

    async def test_the_money_is_held_and_paid_back_when_outbid(self, members, resources):
        async with members() as seller, members() as ana, members() as ben:
            item = await listed(seller, auction())
            first = (await bid(ana, item["id"], "50.00")).json()
            assert await available(resources, ana.id) == Decimal("950.00")
            assert await held(resources, "exchange_bid", first["id"]) == Decimal("50.00")
            second = (await bid(ben, item["id"], "70.00")).json()
            assert await available(resources, ana.id) == Decimal("1000.00")
            assert await held(resources, "exchange_bid", first["id"]) == 0
            assert await held(resources, "exchange_bid", second["id"]) == Decimal("70.00")
            history = (await ana.get(f"/listings/{item['id']}/bids")).json()
            assert [(b["amount"], b["status"]) for b in history] == \
                [("70.00", "leading"), ("50.00", "outbid")]

    async def test_a_bid_beyond_ones_money_is_refused_and_leaves_nothing(self, members):
        async with members() as seller, members(money="20.00") as poor:
            item = await listed(seller, auction())
            refused = await bid(poor, item["id"], "50.00")
            assert refused.status_code == 409
            assert "Not enough money" in refused.json()["detail"]
            shown = (await poor.get(f"/listings/{item['id']}")).json()
            assert (shown["highBid"], shown["bidCount"]) == (None, 0)
            assert (await poor.get(f"/listings/{item['id']}/bids")).json() == []

    async def test_the_same_key_places_one_bid(self, members, resources):
        async with members() as seller, members() as ana:
            item = await listed(seller, auction())
            first = await bid(ana, item["id"], "50.00", **{"Idempotency-Key": "k1"})
            again = await bid(ana, item["id"], "50.00", **{"Idempotency-Key": "k1"})
            assert (first.status_code, again.status_code) == (201, 201)
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == first.json()["id"]
            assert await available(resources, ana.id) == Decimal("950.00")


class TestSoftClose:
    async def test_a_bid_in_the_last_two_minutes_extends_the_end(self, members, resources):
        async with members() as seller, members() as ana:
            item = await listed(seller, auction())
            soon = datetime.now(UTC) + timedelta(seconds=30)
            await set_column(resources, "exchange_listings", item["id"], ends_at=soon)
            placed = (await bid(ana, item["id"], "50.00")).json()
            ends = datetime.fromisoformat(placed["endsAt"])
            assert ends >= datetime.now(UTC) + timedelta(seconds=100)
            assert ends <= datetime.now(UTC) + timedelta(minutes=2, seconds=5)

    async def test_an_earlier_bid_leaves_the_end_alone(self, members):
        async with members() as seller, members() as ana:
            item = await listed(seller, auction())
            placed = (await bid(ana, item["id"], "50.00")).json()
            assert datetime.fromisoformat(placed["endsAt"]) == \
                datetime.fromisoformat(item["endsAt"])

    async def test_no_bid_after_the_end(self, members, resources):
        async with members() as seller, members() as ana:
            item = await listed(seller, auction())
            await set_column(resources, "exchange_listings", item["id"],
                             ends_at=datetime.now(UTC) - timedelta(seconds=1))
            late = await bid(ana, item["id"], "50.00")
            assert late.status_code == 409
            assert "ended" in late.json()["detail"]


class TestEnd:
    async def end(self, resources, item):
        await set_column(resources, "exchange_listings", item["id"],
                         ends_at=datetime.now(UTC) - timedelta(seconds=1))
        return await sweep.sweep(resources, datetime.now(UTC))

    async def test_the_highest_bid_wins_and_its_money_moves_to_the_transaction(
            self, members, resources):
        async with members() as seller, members() as ana, members() as ben:
            item = await listed(seller, auction(reservePrice="60.00"))
            await bid(ana, item["id"], "50.00")
            winning = (await bid(ben, item["id"], "65.00")).json()
            swept = await self.end(resources, item)
            assert swept.auctions_closed == 1
            assert (await ben.get(f"/listings/{item['id']}")).json()["status"] == "taken"
            [deal] = (await ben.get("/transactions")).json()
            assert (deal["status"], deal["price"], deal["kind"]) == ("paid", "65.00", "auction")
            assert await held(resources, "exchange_bid", winning["id"]) == 0
            assert await held(resources, "exchange_transaction", deal["id"]) == Decimal("65.00")
            assert await available(resources, ben.id) == Decimal("935.00")
            assert await available(resources, ana.id) == Decimal("1000.00")
            assert (await self.end(resources, item)).auctions_closed == 0

    async def test_below_the_reserve_no_one_wins_and_the_bid_is_paid_back(
            self, members, resources):
        async with members() as seller, members() as ana:
            item = await listed(seller, auction(reservePrice="80.00"))
            placed = (await bid(ana, item["id"], "60.00")).json()
            assert (await ana.get(f"/listings/{item['id']}")).json()["reserveMet"] is False
            await self.end(resources, item)
            assert (await ana.get(f"/listings/{item['id']}")).json()["status"] == "closed"
            assert (await ana.get("/transactions")).json() == []
            assert await held(resources, "exchange_bid", placed["id"]) == 0
            assert await available(resources, ana.id) == Decimal("1000.00")
            async with resources.reads() as session:
                status = (await session.execute(text(
                    "SELECT status FROM exchange_bids WHERE id = :id"), {"id": placed["id"]}
                )).scalar_one()
            assert status == "lost"

    async def test_an_auction_without_bids_just_closes(self, members, resources):
        async with members() as seller:
            item = await listed(seller, auction())
            assert (await self.end(resources, item)).auctions_closed == 1
            assert (await seller.get(f"/listings/{item['id']}")).json()["status"] == "closed"
