"""Deleting one's account while a rental of theirs holds money, or stays on record: refused
with what blocks it, the rental and its escrow untouched, the ledger checking out."""

from decimal import Decimal

import pytest
from sqlalchemy import text

from panamia.ledger import accounts
from panamia.ledger import check as ledger_check
from panamia.ledger.providers import manual
from panamia.sidecar import registry
from tests.fixtures.http import asgi_client, signed_in_cookies
from tests.identity.factories import create_user
from tests.rentals.factories import MORNING, available, balance, create_item, create_rental


@pytest.fixture
def delete_account(main_app, resources):
    """DELETE /api/account on the main app, signed in as `user_id`."""
    async def delete(user_id: str):
        cookies, headers = await signed_in_cookies(resources, user_id)
        async with asgi_client(main_app) as client:
            client.cookies.update(cookies)
            return await client.delete("/api/account", headers=headers)
    return delete


async def refused(delete_account, user_id: str, reason: str) -> None:
    answer = await delete_account(user_id)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "money in flight"
    assert reason in answer.json()["detail"]


async def status_of(resources, rental_id: str) -> str:
    async with resources.reads() as session:
        return (await session.execute(text("SELECT status FROM rentals WHERE id = :id"),
                                      {"id": rental_id})).scalar_one()


async def ledger_checks_out(resources) -> None:
    report = await ledger_check.check(resources, registry.held_funds())
    assert report.differences == []


async def pay_out_everything(resources, user_id: str) -> None:
    async with resources.db.begin() as session:
        await manual.payout(session, user_id=user_id, currency="USD",
                            amount=await balance(resources, accounts.available(user_id)),
                            reference=f"payout-{user_id}", recorded_by=None)


@pytest.mark.parametrize("status", ["confirmed", "picked_up"])
async def test_neither_party_of_a_rental_holding_money(resources, delete_account, status):
    rental = await create_rental(resources, status=status)
    never_rented = (await create_item(resources)).owner_id
    held = accounts.escrow("rental", rental.id)

    for user_id in (rental.owner_id, rental.renter_id):
        await refused(delete_account, user_id, "a rental not yet settled")

    assert await status_of(resources, rental.id) == status
    assert await balance(resources, held) == Decimal("55.00")  # 3 hours at $5, $40 deposit
    assert (await delete_account(never_rented)).status_code == 204
    await ledger_checks_out(resources)


async def test_a_returned_rental_stays_on_record_for_the_other_member(
        resources, delete_account):
    rental = await create_rental(resources, status="returned")
    await pay_out_everything(resources, rental.owner_id)
    assert await available(resources, rental.owner_id) == 0

    answer = await delete_account(rental.owner_id)

    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        "Your account cannot be deleted while you have rentals on record, which are kept "
        "for the other member. The rental of your Cordless drill on "
        f"{MORNING:%B} {MORNING.day}, {MORNING.year}, kept on record for the other member: "
        "http://localhost:8003/rentals.")
    assert await status_of(resources, rental.id) == "returned"
    await ledger_checks_out(resources)


async def test_a_member_with_money_and_no_rentals(resources, delete_account):
    renter = await create_user(resources)
    async with resources.db.begin() as session:
        await manual.deposit(session, user_id=renter, amount=Decimal("10.00"), currency="USD",
                             reference=f"deposit-{renter}", recorded_by=None)
    await refused(delete_account, renter, "money in your balance")
