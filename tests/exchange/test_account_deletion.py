"""Deleting one's account while the exchange holds money or a deal of theirs: refused with
what blocks it, nothing of anyone's touched; once all is done and paid out, it goes, and
the ledger still checks out."""

from decimal import Decimal

import pytest
from sqlalchemy import text

from panamia.ledger import check as ledger_check
from panamia.ledger.providers import manual
from panamia.sidecar import registry
from tests.exchange.factories import auction, available, free, held, listed, sale
from tests.fixtures.http import BROWSER, asgi_client, text_of


@pytest.fixture
def delete_account(main_app):
    """DELETE /api/account on the main app, as `member`."""
    async def delete(member):
        async with asgi_client(main_app) as client:
            client.cookies.update(member.http.cookies)
            return await client.delete("/api/account", headers=member.headers)
    return delete


async def refused(delete_account, member, reason: str) -> None:
    answer = await delete_account(member)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "money in flight"
    assert reason in answer.json()["detail"]


async def ledger_checks_out(resources) -> None:
    report = await ledger_check.check(resources, registry.held_funds())
    assert report.differences == []


async def exists(resources, table: str, row_id: str) -> bool:
    async with resources.reads() as session:
        found = await session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"),
                                      {"id": row_id})
        return found.first() is not None


async def postings_of(resources, user_id: str) -> list[Decimal]:
    """The amounts posted on the member's available account, oldest first."""
    async with resources.reads() as session:
        return list((await session.execute(text(
            "SELECT p.amount FROM ledger_postings p JOIN ledger_accounts a "
            "ON a.id = p.account_id WHERE a.kind = 'available' AND a.owner = :owner "
            "ORDER BY p.id"), {"owner": user_id})).scalars())


async def pay_out_everything(resources, user_id: str) -> None:
    amount = await available(resources, user_id)
    async with resources.db.begin() as session:
        await manual.payout(session, user_id=user_id, amount=amount, currency="USD",
                            reference=f"payout-{user_id}", recorded_by=None)


async def step(member, deal: dict, name: str):
    answer = await member.post(f"/transactions/{deal['id']}/{name}")
    assert answer.status_code == 200, answer.text
    return answer.json()


class TestRefused:
    async def test_a_leading_bidder_keeps_their_bid_and_its_money(
            self, members, resources, delete_account):
        async with members(money="0") as seller, members(money="60.00") as ana:
            item = await listed(seller, auction())
            bid = (await ana.post(f"/listings/{item['id']}/bids", {"amount": "60.00"})).json()

            await refused(delete_account, ana, "a leading bid in an auction")

            assert await held(resources, "exchange_bid", bid["id"]) == Decimal("60.00")
            assert await exists(resources, "exchange_bids", bid["id"])
            await ledger_checks_out(resources)

    async def test_the_seller_of_an_auction_with_bids_keeps_it(
            self, members, resources, delete_account):
        async with members(money="0") as seller, members() as ana:
            item = await listed(seller, auction())
            await ana.post(f"/listings/{item['id']}/bids", {"amount": "50.00"})

            await refused(delete_account, seller, "an open auction with bids")

            assert (await ana.get(f"/listings/{item['id']}")).json()["bidCount"] == 1
            await ledger_checks_out(resources)

    async def test_both_sides_of_a_paid_purchase(self, members, resources, delete_account):
        async with members(money="0") as seller, members(money="100.00") as buyer:
            item = await listed(seller, sale(price="100.00"))
            deal = (await buyer.post(f"/listings/{item['id']}/buy")).json()
            await step(buyer, deal, "pay")

            for member in (seller, buyer):
                await refused(delete_account, member,
                              "an exchange purchase or sale not yet completed")

            assert (await buyer.get(f"/transactions/{deal['id']}")).json()["status"] == "paid"
            assert await held(resources, "exchange_transaction", deal["id"]) == \
                Decimal("100.00")
            await ledger_checks_out(resources)

    async def test_money_left_in_ones_balance(self, members, resources, delete_account):
        async with members(money="25.00") as ana:
            await refused(delete_account, ana, "money in your balance")
            assert await available(resources, ana.id) == Decimal("25.00")

    async def test_every_reason_is_named(self, members, delete_account):
        async with members(money="0") as seller, members(money="100.00") as ana:
            item = await listed(seller, auction())
            await ana.post(f"/listings/{item['id']}/bids", {"amount": "50.00"})
            detail = (await delete_account(ana)).json()["detail"]
            assert detail == ("Your account cannot be deleted while you have a leading bid in "
                              "an auction; money in your balance or held for you (ask for a "
                              "payout). Your leading bid on Old guitar: "
                              f"http://localhost:8002/listings/{item['id']}.")

    async def test_the_page_says_what_blocks_it(self, members, main_app):
        async with members(money="5.00") as ana, asgi_client(main_app) as browser:
            browser.cookies.update(ana.http.cookies)
            page = await browser.post("/account/delete", headers=BROWSER,
                                      data={"csrfToken": ana.headers["X-CSRF-Token"]})
        assert page.status_code == 409
        assert "while you have money in your balance" in text_of(page.text)


class TestAllowed:
    async def test_after_a_completed_sale_and_a_payout_the_journal_stays(
            self, members, resources, delete_account):
        async with members(money="0") as seller, members(money="100.00") as buyer:
            item = await listed(seller, sale(price="100.00"))
            deal = (await buyer.post(f"/listings/{item['id']}/buy")).json()
            await step(buyer, deal, "pay")
            await step(seller, deal, "hand-over")
            await step(buyer, deal, "confirm")
            await refused(delete_account, seller, "money in your balance")
            await pay_out_everything(resources, seller.id)
            postings = await postings_of(resources, seller.id)

            assert (await delete_account(seller)).status_code == 204

            assert await postings_of(resources, seller.id) == postings == [
                Decimal("95.00"), Decimal("-95.00")]
            assert not await exists(resources, "exchange_listings", item["id"])
            await ledger_checks_out(resources)

    async def test_open_listings_without_bids_go_with_their_seller(
            self, members, resources, delete_account):
        async with members(money="0") as seller:
            quiet = await listed(seller, auction())
            given = await listed(seller, free())

            assert (await delete_account(seller)).status_code == 204

            for listing in (quiet, given):
                assert not await exists(resources, "exchange_listings", listing["id"])
            await ledger_checks_out(resources)
