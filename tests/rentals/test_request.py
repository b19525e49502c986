"""Asking to rent: the turnaround after a rental is kept free by PostgreSQL, times are
checked, and a retry with the same Idempotency-Key is one rental."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from panamia.errors import Invalid
from panamia.rentals import service
from panamia.rentals.schemas import RentalRequest
from tests.identity.factories import create_user
from tests.profiles.factories import principal
from tests.rentals.factories import MORNING, body, create_item, create_rental


async def ask(resources, item, start, hours):
    """The answer kept for a fresh Idempotency-Key: a 201, or the 409 of a refusal."""
    renter = principal(await create_user(resources))
    request = RentalRequest.model_validate(body(item.id, start, hours))
    return await service.request_rental(resources, renter, request, uuid.uuid4().hex)


@pytest.fixture
async def drill(resources):
    """An item rented 10:00-13:00 with an hour's turnaround: blocked until 14:00."""
    item = await create_item(resources, buffer_minutes=60)
    await create_rental(resources, item=item, start=MORNING, hours=3)
    return item


@pytest.mark.parametrize("start, hours, status", [
    (MORNING + timedelta(hours=3, minutes=30), 2, 409),  # inside the turnaround
    (MORNING + timedelta(hours=4), 2, 201),  # at its end
    (MORNING - timedelta(hours=4), 3, 201),  # ends 09:00: its own turnaround ends at 10:00
    (MORNING - timedelta(hours=4), 3.5, 409),  # ends 09:30: its turnaround meets the rental
    (MORNING + timedelta(hours=1), 1, 409),  # inside the rental
])
async def test_the_turnaround_after_each_rental_stays_free(resources, drill, start, hours,
                                                            status):
    answer = await ask(resources, drill, start, hours)
    assert answer.status == status, answer.body
    if status == 409:
        assert "turnaround" in answer.body["detail"]


async def test_a_declined_rental_frees_its_time_and_turnaround(resources):
    item = await create_item(resources)
    await create_rental(resources, item=item, status="declined")
    assert (await ask(resources, item, MORNING, 3)).status == 201


async def test_the_database_refuses_a_blocked_time_that_is_not_the_end_plus_the_buffer(
    resources, drill,
):
    with pytest.raises(IntegrityError, match="ck_rentals_blocked_is_end_plus_buffer"):
        async with resources.db.begin() as db:
            await db.execute(text(
                "UPDATE rentals SET blocked_until = ends_at WHERE item_id = :item"),
                {"item": drill.id})


@pytest.mark.parametrize("change, field", [
    ({"start": MORNING - timedelta(days=60)}, "startsAt"),
    ({"start": MORNING + timedelta(days=400)}, "startsAt"),
    ({"hours": 24 * 91}, "endsAt"),
    ({"hours": -1}, "endsAt"),
])
async def test_bad_times_are_refused_naming_the_field(resources, change, field):
    item = await create_item(resources)
    with pytest.raises(Invalid) as refused:
        await ask(resources, item, change.get("start", MORNING), change.get("hours", 2))
    assert refused.value.fields == [field]


async def test_own_or_hidden_items_cannot_be_rented(resources):
    item = await create_item(resources)
    request = RentalRequest.model_validate(body(item.id))
    with pytest.raises(Invalid, match="your own item"):
        await service.request_rental(resources, principal(item.owner_id), request)
    async with resources.db.begin() as db:
        await db.execute(text("UPDATE rental_items SET available = false WHERE id = :id"),
                         {"id": item.id})
    with pytest.raises(Invalid, match="not taking rentals"):
        await ask(resources, item, MORNING, 2)


async def test_the_same_key_gives_the_first_answer_and_one_rental(resources):
    item = await create_item(resources, price=Decimal("7.50"))
    renter = principal(await create_user(resources))
    request = RentalRequest.model_validate(body(item.id, MORNING, 2))
    first = await service.request_rental(resources, renter, request, "key-1")
    again = await service.request_rental(resources, renter, request, "key-1")
    assert first.status == again.status == 201 and again.replayed
    assert again.body == first.body and first.body["fee"] == "15.00"
    async with resources.db.begin() as db:
        count = await db.execute(text("SELECT count(*) FROM rentals WHERE item_id = :id"),
                                 {"id": item.id})
        assert count.scalar_one() == 1
