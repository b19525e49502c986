"""A rental's steps and where its money goes: held at confirmation, back on cancellation,
paid out at the return (late hours from the deposit first), kept in part on a damage claim
that the renter accepts or an admin settles; unanswered requests expire."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from panamia.errors import Conflict, Forbidden, Invalid
from panamia.ledger import accounts
from panamia.outbox.models import OutboxEvent
from panamia.rentals import expiry, service
from panamia.rentals.schemas import ClaimBody, SettleBody
from tests.identity.factories import create_user
from tests.profiles.factories import principal
from tests.rentals.factories import available, balance, create_item, create_rental, fund

D = Decimal


@pytest.fixture
async def people(resources):
    """A funded renter ($200), and the drill's owner: $5 an hour, $40 deposit."""
    renter = await create_user(resources)
    await fund(resources, renter, "200.00")
    return renter, await create_item(resources)


async def step(resources, user_id, rental, name, details=None, now=None, admin=False):
    return await service.transition(resources, principal(user_id, is_admin=admin), rental.id,
                                    name, details, now)


async def held(resources, rental) -> Decimal:
    return await balance(resources, accounts.escrow("rental", rental.id))


async def test_confirming_holds_the_fee_and_deposit(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, hours=3)
    assert await available(resources, renter) == D("200.00")  # a request holds no money
    confirmed = await step(resources, item.owner_id, rental, "confirm")
    assert confirmed.status == "confirmed" and confirmed.confirmed_at is not None
    assert await held(resources, rental) == D("55.00")  # 3 hours at $5, and $40
    assert await available(resources, renter) == D("145.00")


async def test_a_renter_short_of_money_cannot_be_confirmed_and_nothing_changes(resources):
    item = await create_item(resources, deposit=D("300.00"))
    renter = await create_user(resources)
    await fund(resources, renter, "100.00")
    rental = await create_rental(resources, item=item, renter_id=renter)
    with pytest.raises(Conflict, match="cannot cover the fee and deposit") as refused:
        await step(resources, item.owner_id, rental, "confirm")
    assert "100.00" in refused.value.detail
    assert (await service.get_rental(resources, principal(renter), rental.id)).status == \
        "requested"
    assert await available(resources, renter) == D("100.00")


async def test_cancelling_a_confirmed_rental_gives_everything_back_once(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, status="confirmed")
    cancelled = await step(resources, renter, rental, "cancel")
    assert cancelled.status == "cancelled" and cancelled.cancelled_by == renter
    assert await available(resources, renter) == D("200.00")
    assert await held(resources, rental) == 0
    with pytest.raises(Conflict, match="is cancelled"):
        await step(resources, item.owner_id, rental, "cancel")


async def test_no_cancelling_once_it_has_begun(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, status="confirmed")
    with pytest.raises(Conflict, match="only before its start"):
        await step(resources, renter, rental, "cancel", now=rental.starts_at + timedelta(hours=1))


async def test_a_return_on_time_pays_the_owner_less_the_platform_fee(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, hours=4,
                                 status="picked_up")
    fees_before = await balance(resources, accounts.fees())
    returned = await step(resources, item.owner_id, rental, "return", now=rental.ends_at)
    assert returned.status == "returned" and returned.late_fee == 0
    assert await available(resources, renter) == D("180.00")  # $20 fee; deposit back
    assert await available(resources, item.owner_id) == D("18.00")
    assert await balance(resources, accounts.fees()) - fees_before == D("2.00")
    assert await held(resources, rental) == 0


async def test_a_late_return_costs_each_started_hour_from_the_deposit(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, hours=4,
                                 status="picked_up")
    late = rental.ends_at + timedelta(hours=2, minutes=10)
    returned = await step(resources, item.owner_id, rental, "return", now=late)
    assert returned.late_fee == D("15.00")  # 3 started hours at $5
    assert await available(resources, renter) == D("165.00")  # $25 of the $40 back
    assert await available(resources, item.owner_id) == D("33.00")


async def test_lateness_beyond_the_deposit_comes_from_the_balance_as_far_as_it_goes(resources):
    item = await create_item(resources, deposit=D("10.00"))
    renter = await create_user(resources)
    await fund(resources, renter, "40.00")
    rental = await create_rental(resources, item=item, renter_id=renter, hours=2,
                                 status="picked_up")  # $10 fee + $10 deposit held
    returned = await step(resources, item.owner_id, rental, "return",
                          now=rental.ends_at + timedelta(hours=10))
    assert returned.late_fee == D("30.00")  # $10 of deposit, then all $20 of the balance
    assert await available(resources, renter) == 0
    assert await available(resources, item.owner_id) == D("39.00")  # $9 + $10 + $20


async def test_a_claim_keeps_part_of_the_deposit_until_the_renter_accepts(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, hours=2,
                                 status="picked_up")
    with pytest.raises(Invalid, match="at most the deposit"):
        await step(resources, item.owner_id, rental, "claim",
                   ClaimBody(amount=D("41.00"), reason="Chuck broken"))
    claimed = await step(resources, item.owner_id, rental, "claim",
                         ClaimBody(amount=D("15.00"), reason="Chuck broken"))
    assert claimed.status == "claimed" and claimed.returned_at is not None
    assert await available(resources, item.owner_id) == D("9.00")  # the fee less 10%
    assert await held(resources, rental) == D("40.00")
    with pytest.raises(Forbidden, match="Only the renter"):
        await step(resources, item.owner_id, rental, "accept_claim")
    settled = await step(resources, renter, rental, "accept_claim")
    assert settled.status == "settled" and settled.settled_amount == D("15.00")
    assert await available(resources, item.owner_id) == D("24.00")
    assert await available(resources, renter) == D("175.00")  # $150 and $25 of the deposit
    assert await held(resources, rental) == 0


async def test_a_disputed_claim_is_settled_by_an_admin_only(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter, hours=2,
                                 status="picked_up")
    await step(resources, item.owner_id, rental, "claim",
               ClaimBody(amount=D("30.00"), reason="Lost a battery"))
    disputed = await step(resources, renter, rental, "dispute")
    assert disputed.status == "disputed"
    with pytest.raises(Forbidden, match="Only an admin"):
        await step(resources, item.owner_id, rental, "settle", SettleBody(owner_gets=D("30")))
    admin = await create_user(resources)
    with pytest.raises(Invalid, match="settle at most that"):
        await step(resources, admin, rental, "settle", SettleBody(owner_gets=D("31")),
                   admin=True)
    settled = await step(resources, admin, rental, "settle", SettleBody(owner_gets=D("12.50")),
                         admin=True)
    assert settled.settled_amount == D("12.50")
    assert await available(resources, renter) == D("200.00") - D("10.00") - D("12.50")
    assert await available(resources, item.owner_id) == D("9.00") + D("12.50")
    assert await held(resources, rental) == 0


async def test_unanswered_requests_expire_and_can_no_longer_be_confirmed(resources, people):
    renter, item = people
    rental = await create_rental(resources, item=item, renter_id=renter)
    later = datetime.now(UTC) + timedelta(hours=49)
    assert rental.id in await expiry.expire_unanswered(resources, later)
    assert rental.id not in await expiry.expire_unanswered(resources, later)
    with pytest.raises(Conflict, match="is expired"):
        await step(resources, item.owner_id, rental, "confirm")


async def test_a_request_not_answered_before_its_start_expires_then(resources, people):
    renter, item = people
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)
    rental = await create_rental(resources, item=item, renter_id=renter, start=soon)
    with pytest.raises(Conflict, match="before its start"):
        await step(resources, item.owner_id, rental, "confirm", now=rental.starts_at)
    assert await expiry.expire_unanswered(resources, rental.starts_at - timedelta(minutes=1)) \
        == []
    assert await expiry.expire_unanswered(resources, rental.starts_at) == [rental.id]


async def notices_about(resources, rental) -> list[tuple[str, str, str | None]]:
    """(activity, recipient, actor) of each notice queued about the rental, sorted."""
    async with resources.reads() as db:
        rows = await db.execute(
            select(OutboxEvent.payload).where(
                OutboxEvent.payload["object"]["id"].astext == rental.id))
    payloads = [row.payload for row in rows]
    assert all(p["object"]["type"] == "Rental" and
               p["object"]["url"].endswith(f"/rentals#rental-{rental.id}") for p in payloads)
    return sorted((p["type"], p["targetId"], p["actorId"] or "") for p in payloads)


async def test_each_step_tells_the_other_party(resources, people):
    renter, item = people
    owner = item.owner_id
    rental = await create_rental(resources, item=item, renter_id=renter, status="confirmed")
    await step(resources, renter, rental, "cancel")
    expired = await create_rental(resources, item=item, renter_id=renter)
    await expiry.expire_unanswered(resources, datetime.now(UTC) + timedelta(hours=49))
    assert await notices_about(resources, rental) == [
        ("Accept", renter, owner), ("Offer", owner, renter), ("Update", owner, renter)]
    assert await notices_about(resources, expired) == [
        ("Offer", owner, renter), ("Update", renter, "")]  # the sweep: no one acted
