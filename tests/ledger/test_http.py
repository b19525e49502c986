"""The manual provider over HTTP (administrators only), and a member's own money."""

from decimal import Decimal

import pytest

from panamia.ledger import accounts, journal
from panamia.ledger.journal import Move
from tests.fixtures.http import BROWSER, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as, unique_email
from tests.ledger.factories import fund

D = Decimal


async def as_admin(client, resources) -> dict:
    await sign_in_as(client, resources, await create_user(resources, email="admin@example.org"))
    return await csrf_headers(client)


def money(email: str, amount="25.50", reference="bank-1", **more) -> dict:
    return {"email": email, "amount": amount, "currency": "USD", "reference": reference,
            **more}


class TestWhoMayRecord:
    @pytest.mark.parametrize("path", ["/api/ledger/deposits", "/api/ledger/payouts"])
    async def test_anonymous_and_members_are_refused_and_nothing_moves(
            self, client, resources, path):
        ana_email = unique_email()
        ana = await create_user(resources, email=ana_email)
        await fund(resources, ana, "100")

        anonymous = await client.post(path, json=money(ana_email),
                                      headers=await csrf_headers(client))
        await sign_in_as(client, resources, ana)
        member = await client.post(path, json=money(ana_email),
                                   headers=await csrf_headers(client))

        assert anonymous.status_code == 401
        assert (member.status_code, member.json()["error"]) == (403, "forbidden")
        async with resources.db.begin() as db:
            assert await journal.balance(db, accounts.available(ana), "USD") == D("100.00")

    async def test_an_admin_without_the_csrf_token_is_refused(self, client, resources):
        await as_admin(client, resources)
        email = unique_email()
        await create_user(resources, email=email)

        response = await client.post("/api/ledger/deposits", json=money(email))

        assert response.status_code == 403


class TestManualDeposits:
    async def test_a_deposit_is_recorded_once_per_reference(self, client, resources):
        headers = await as_admin(client, resources)
        email = unique_email()
        ana = await create_user(resources, email=email)

        first = await client.post("/api/ledger/deposits", json=money(email.upper()),
                                  headers=headers)
        again = await client.post("/api/ledger/deposits", json=money(email), headers=headers)

        assert first.status_code == 201
        assert first.json() == {"posted": True, "userId": ana, "direction": "deposit",
                                "amount": "25.50", "currency": "USD", "reference": "bank-1",
                                "available": "25.50"}
        assert again.status_code == 200
        assert (again.json()["posted"], again.json()["available"]) == (False, "25.50")

    async def test_the_same_reference_with_another_amount_is_a_conflict(self, client,
                                                                        resources):
        headers = await as_admin(client, resources)
        email = unique_email()
        await create_user(resources, email=email)
        await client.post("/api/ledger/deposits", json=money(email), headers=headers)

        response = await client.post("/api/ledger/deposits", json=money(email, amount="30"),
                                     headers=headers)

        assert response.status_code == 409
        assert response.json()["error"] == "ledger conflict"
        assert "manual:deposit:bank-1 was already posted" in response.json()["detail"]

    async def test_a_payout_leaves_available_money_and_cannot_exceed_it(self, client,
                                                                        resources):
        headers = await as_admin(client, resources)
        email = unique_email()
        await fund(resources, await create_user(resources, email=email), "100")

        paid = await client.post("/api/ledger/payouts", json=money(email, amount="60"),
                                 headers=headers)
        too_much = await client.post("/api/ledger/payouts",
                                     json=money(email, amount="60", reference="bank-2"),
                                     headers=headers)

        assert (paid.status_code, paid.json()["available"]) == (201, "40.00")
        assert too_much.status_code == 409
        assert too_much.json() == {
            "error": "insufficient funds",
            "detail": "Not enough money: 40.00 USD available, 60.00 USD needed."}

    @pytest.mark.parametrize(("change", "status", "field"), [
        ({"amount": "-5"}, 422, "amount"),
        ({"amount": "1.001"}, 422, "amount"),
        ({"amount": 2.5e300}, 422, "amount"),
        ({"currency": "dollars"}, 422, "currency"),
        ({"reference": "  "}, 422, "reference"),
        ({"reference": "bank\n1"}, 422, "reference"),
        ({"email": "not-an-address"}, 422, "email"),
        ({"tip": "1"}, 422, "tip"),
    ])
    async def test_bad_input_is_named(self, client, resources, change, status, field):
        headers = await as_admin(client, resources)
        email = unique_email()
        await create_user(resources, email=email)

        response = await client.post("/api/ledger/deposits", json=money(email) | change,
                                     headers=headers)

        assert response.status_code == status, response.text
        assert field in [f["field"] for f in response.json()["fields"]]

    async def test_an_unknown_member_is_404(self, client, resources):
        headers = await as_admin(client, resources)

        response = await client.post("/api/ledger/deposits", json=money("nobody@example.org"),
                                     headers=headers)

        assert response.status_code == 404
        assert response.json()["detail"] == "No member has the email address nobody@example.org."


class TestMyMoney:
    async def hold_for_a_rental(self, resources, user_id: str) -> None:
        async with resources.db.begin() as db:
            await journal.post(db, event_key=f"rental:r7:{user_id}", kind="rental.deposit_hold",
                               moves=[Move(accounts.available(user_id),
                                           accounts.escrow("rental", "r7"), D("30"), "USD")])

    async def test_a_member_sees_available_and_held_money_and_why(self, client, resources):
        ana = await create_user(resources)
        await fund(resources, ana, "100")
        await self.hold_for_a_rental(resources, ana)
        await sign_in_as(client, resources, ana)

        body = (await client.get("/api/ledger/me")).json()

        assert body["totals"] == [{"currency": "USD", "available": "70.00", "held": "30.00"}]
        assert [(h["refType"], h["refId"], h["amount"]) for h in body["holds"]] == [
            ("rental", "r7", "30.00")]
        assert [(p["kind"], p["account"], p["amount"]) for p in body["postings"]] == [
            ("rental.deposit_hold", "held for rental r7", "30.00"),
            ("rental.deposit_hold", "available", "-30.00"),
            ("manual.deposit", "available", "100.00"),
        ]

    async def test_a_bid_hold_that_becomes_a_purchase_stays_held_for_the_bidder(
            self, client, resources):
        ana = await create_user(resources)
        await fund(resources, ana, "100")
        bid, purchase = accounts.escrow("exchange_bid", "b1"), accounts.escrow(
            "exchange_transaction", "t1")
        async with resources.db.begin() as db:
            await journal.post(db, event_key="exchange:bid:b1:hold", kind="exchange.bid_hold",
                               moves=[Move(accounts.available(ana), bid, D("40"), "USD")])
            await journal.post(db, event_key="exchange:bid:b1:award", kind="exchange.award",
                               moves=[Move(bid, purchase, D("40"), "USD")])
        await sign_in_as(client, resources, ana)

        body = (await client.get("/api/ledger/me")).json()

        assert body["totals"] == [{"currency": "USD", "available": "60.00", "held": "40.00"}]
        assert [(h["refType"], h["refId"]) for h in body["holds"]] == [
            ("exchange_transaction", "t1")]

    async def test_another_members_money_is_not_shown(self, client, resources):
        await fund(resources, await create_user(resources), "100")
        await sign_in_as(client, resources, await create_user(resources))

        body = (await client.get("/api/ledger/me")).json()

        assert body == {"totals": [], "holds": [], "postings": []}

    async def test_signing_in_is_needed(self, client):
        assert (await client.get("/api/ledger/me")).status_code == 401

    async def test_the_money_page_says_what_is_held_in_plain_words(self, client, resources):
        ana = await create_user(resources)
        await fund(resources, ana, "100")
        await self.hold_for_a_rental(resources, ana)
        await sign_in_as(client, resources, ana)

        account = await client.get("/account", headers=BROWSER)
        page = await client.get("/account/money", headers=BROWSER)

        assert 'href="/account/money"' in account.text
        text = text_of(page.text)
        assert "USD 70.00 USD 30.00 USD" in text
        assert "30.00 USD for a rental deposit, until the item is returned" in text
        assert "Money received available 100.00 USD" in text
