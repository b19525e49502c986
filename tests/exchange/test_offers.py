"""Offers: who may make and answer them, what each kind of listing takes, acceptance declining
every other pending offer in the same transaction, and expiry."""

from datetime import UTC, datetime, timedelta

from panamia.exchange import sweep
from tests.exchange.factories import free, listed, sale, set_column, swap


async def offer(member, listing_id: str, **body):
    return await member.post(f"/listings/{listing_id}/offers", body)


class TestMaking:
    async def test_a_sale_open_to_offers_takes_an_amount(self, members):
        async with members() as seller, members() as ana:
            item = await listed(seller, sale(openToOffers=True))
            made = await offer(ana, item["id"], amount="80.00", message="Cash?")
            assert made.status_code == 201, made.text
            assert (made.json()["amount"], made.json()["status"]) == ("80.00", "pending")

    async def test_what_each_kind_refuses(self, members):
        async with members() as seller, members() as ana:
            closed_sale = await listed(seller, sale())
            assert (await offer(ana, closed_sale["id"], amount="80.00")).status_code == 422
            gift = await listed(seller, free())
            refused = await offer(ana, gift["id"], amount="5.00")
            assert refused.status_code == 422
            assert refused.json()["fields"][0]["field"] == "amount"
            trade = await listed(seller, swap())
            refused = await offer(ana, trade["id"])
            assert refused.status_code == 422
            assert refused.json()["fields"][0]["field"] == "swapListingId"
            not_mine = await offer(ana, trade["id"], swapListingId=gift["id"])
            assert not_mine.status_code == 422

    async def test_not_on_ones_own_listing(self, members):
        async with members() as seller:
            item = await listed(seller, sale(openToOffers=True))
            assert (await offer(seller, item["id"], amount="80.00")).status_code == 403

    async def test_one_open_offer_per_member_and_listing(self, members):
        async with members() as seller, members() as ana:
            item = await listed(seller, sale(openToOffers=True))
            assert (await offer(ana, item["id"], amount="80.00")).status_code == 201
            second = await offer(ana, item["id"], amount="85.00")
            assert second.status_code == 409
            assert "already have an open offer" in second.json()["detail"]

    async def test_offers_are_seen_by_the_seller_and_their_maker_only(self, members):
        async with members() as seller, members() as ana, members() as ben:
            item = await listed(seller, sale(openToOffers=True))
            await offer(ana, item["id"], amount="80.00")
            await offer(ben, item["id"], amount="70.00")
            assert len((await seller.get(f"/listings/{item['id']}/offers")).json()) == 2
            [own] = (await ana.get(f"/listings/{item['id']}/offers")).json()
            assert own["buyerId"] == ana.id


class TestAnswering:
    async def test_accepting_one_declines_the_others_and_begins_the_transaction(self, members):
        async with members() as seller, members() as ana, members() as ben:
            item = await listed(seller, sale(openToOffers=True))
            chosen = (await offer(ana, item["id"], amount="80.00")).json()
            other = (await offer(ben, item["id"], amount="70.00")).json()
            accepted = await seller.post(f"/offers/{chosen['id']}/accept")
            assert accepted.status_code == 200, accepted.text
            assert accepted.json()["status"] == "accepted"
            statuses = {o["id"]: o["status"] for o in
                        (await seller.get(f"/listings/{item['id']}/offers")).json()}
            assert statuses == {chosen["id"]: "accepted", other["id"]: "declined"}
            assert (await ana.get(f"/listings/{item['id']}")).json()["status"] == "taken"
            [deal] = (await ana.get("/transactions")).json()
            assert (deal["status"], deal["price"], deal["fee"]) == \
                ("awaiting_payment", "80.00", "4.00")
            again = await seller.post(f"/offers/{other['id']}/accept")
            assert again.status_code == 409
            assert "declined" in again.json()["detail"]

    async def test_only_the_seller_answers_and_only_the_buyer_withdraws(self, members):
        async with members() as seller, members() as ana, members() as ben:
            item = await listed(seller, sale(openToOffers=True))
            made = (await offer(ana, item["id"], amount="80.00")).json()
            assert (await ana.post(f"/offers/{made['id']}/accept")).status_code == 403
            assert (await ben.post(f"/offers/{made['id']}/decline")).status_code == 404
            assert (await seller.post(f"/offers/{made['id']}/withdraw")).status_code == 403
            withdrawn = await ana.post(f"/offers/{made['id']}/withdraw")
            assert withdrawn.json()["status"] == "withdrawn"

    async def test_a_swap_takes_both_items(self, members):
        async with members() as seller, members() as ana:
            wanted = await listed(seller, swap())
            given = await listed(ana, swap(title="Children's books"))
            made = (await offer(ana, wanted["id"], swapListingId=given["id"])).json()
            assert (await seller.post(f"/offers/{made['id']}/accept")).status_code == 200
            for item in (wanted, given):
                assert (await ana.get(f"/listings/{item['id']}")).json()["status"] == "taken"
            [deal] = (await seller.get("/transactions")).json()
            assert (deal["status"], deal["price"], deal["kind"]) == ("paid", "0.00", "swap")

    async def test_a_free_item_goes_to_the_one_accepted(self, members):
        async with members() as seller, members() as ana:
            gift = await listed(seller, free())
            made = (await offer(ana, gift["id"], message="I can pick them up today")).json()
            assert (await seller.post(f"/offers/{made['id']}/accept")).status_code == 200
            [deal] = (await ana.get("/transactions")).json()
            assert (deal["status"], deal["price"], deal["payBy"]) == ("paid", "0.00", None)


class TestExpiry:
    async def test_an_offer_expires_and_can_no_longer_be_accepted(self, members, resources):
        async with members() as seller, members() as ana:
            item = await listed(seller, sale(openToOffers=True))
            made = (await offer(ana, item["id"], amount="80.00")).json()
            past = datetime.now(UTC) - timedelta(minutes=1)
            await set_column(resources, "exchange_offers", made["id"], expires_at=past)
            late = await seller.post(f"/offers/{made['id']}/accept")
            assert late.status_code == 409
            assert "expired" in late.json()["detail"]
            assert (await sweep.sweep(resources, datetime.now(UTC))).offers_expired == 1
            [shown] = (await ana.get(f"/listings/{item['id']}/offers")).json()
            assert shown["status"] == "expired"
            assert (await offer(ana, item["id"], amount="85.00")).status_code == 201
