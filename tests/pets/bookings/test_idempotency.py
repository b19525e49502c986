"""`Idempotency-Key` on POST /bookings: replays, mismatches, scope, expiry, concurrency."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update

from panamia import purge
from panamia.apps.pets import create_app
from panamia.pets.models import Booking
from panamia.sidecar.models import IdempotencyKey
from tests.fixtures.database import until_waiting
from tests.fixtures.http import asgi_client, signed_in_cookies
from tests.identity.factories import create_user
from tests.pets.bookings.factories import FIRST_NIGHT, body, create_booking
from tests.pets.factories import act_as, create_listing

KEYS = "expired idempotency keys"


async def bookings_of(resources, listing_id: str) -> int:
    async with resources.reads() as db:
        return (await db.execute(select(func.count()).select_from(Booking).where(
            Booking.listing_id == listing_id))).scalar_one()


class TestReplay:
    async def test_same_key_same_body_gets_the_first_answer(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        headers["Idempotency-Key"] = "k-1"

        first = await pets.post("/bookings", json=body(listing.id), headers=headers)
        # The same JSON, keys in another order and spaced differently.
        again = await pets.post(
            "/bookings", content=json.dumps(dict(reversed(body(listing.id).items())), indent=2),
            headers={**headers, "Content-Type": "application/json"})

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert await bookings_of(resources, listing.id) == 1

    async def test_a_409_is_replayed_even_once_the_nights_are_free(
        self, pets, client, resources
    ):
        listing = await create_listing(resources)
        blocking = await create_booking(resources, listing=listing)
        headers = await act_as(pets, client, resources, await create_user(resources))
        headers["Idempotency-Key"] = "k-2"

        first = await pets.post("/bookings", json=body(listing.id), headers=headers)
        async with resources.db.begin() as db:
            await db.execute(update(Booking).where(Booking.id == blocking.id)
                             .values(status="cancelled"))
        again = await pets.post("/bookings", json=body(listing.id), headers=headers)
        fresh = await pets.post("/bookings", json=body(listing.id),
                                headers={**headers, "Idempotency-Key": "k-3"})

        assert first.status_code == again.status_code == 409
        assert again.json() == first.json() == {"error": "conflict",
                                                "detail": first.json()["detail"]}
        assert fresh.status_code == 201

    async def test_same_key_other_body_is_422(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        headers["Idempotency-Key"] = "k-4"
        assert (await pets.post("/bookings", json=body(listing.id),
                                headers=headers)).status_code == 201

        other = await pets.post("/bookings", json=body(listing.id, note="Two walks"),
                                headers=headers)

        assert other.status_code == 422
        assert other.json()["fields"][0]["field"] == "Idempotency-Key"
        assert await bookings_of(resources, listing.id) == 1

    async def test_a_refused_request_leaves_the_key_free(self, pets, client, resources):
        listing = await create_listing(resources, max_pets=1)
        headers = await act_as(pets, client, resources, await create_user(resources))
        headers["Idempotency-Key"] = "k-5"
        too_many = body(listing.id, pets=[{"name": "A", "species": "dog"},
                                          {"name": "B", "species": "cat"}])

        assert (await pets.post("/bookings", json=too_many, headers=headers)).status_code == 422
        assert (await pets.post("/bookings", json=body(listing.id),
                                headers=headers)).status_code == 201

    async def test_keys_belong_to_their_user(self, pets, client, resources):
        listing = await create_listing(resources)
        for start in (FIRST_NIGHT, FIRST_NIGHT + timedelta(days=10)):
            headers = await act_as(pets, client, resources, await create_user(resources))
            response = await pets.post("/bookings", json=body(listing.id, start),
                                       headers={**headers, "Idempotency-Key": "shared"})
            assert response.status_code == 201
            assert "Idempotent-Replayed" not in response.headers
        assert await bookings_of(resources, listing.id) == 2


class TestExpiry:
    async def test_kept_24_hours_then_purged_by_panamia_purge(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        await pets.post("/bookings", json=body(listing.id),
                        headers={**headers, "Idempotency-Key": "k-6"})

        early, late = [
            (await purge.purge(resources.db, resources.settings,
                               datetime.now(UTC) + timedelta(hours=hours)))[KEYS]
            for hours in (23, 25)]

        assert (early, late) == (0, 1)

    async def test_an_expired_key_not_yet_purged_is_new_again(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        headers["Idempotency-Key"] = "k-7"
        await pets.post("/bookings", json=body(listing.id), headers=headers)
        async with resources.db.begin() as db:
            await db.execute(update(IdempotencyKey).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)))

        other = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT + timedelta(
            days=7)), headers=headers)

        assert other.status_code == 201
        assert "Idempotent-Replayed" not in other.headers
        assert await bookings_of(resources, listing.id) == 2


class TestConcurrent:
    async def test_same_key_while_the_first_runs_is_409_at_once(
        self, committed, committed_settings
    ):
        listing = await create_listing(committed)
        cookies, headers = await signed_in_cookies(committed, await create_user(committed))
        headers["Idempotency-Key"] = "k-8"
        request = body(listing.id)
        async with asgi_client(create_app(committed_settings, committed)) as pets, \
                committed.engine.connect() as holder:
            pets.cookies.update(cookies)
            # Hold the listing's row as adding a blackout does, so the first request stops
            # at its insert, inside its transaction, key claimed.
            await holder.begin()
            await holder.execute(text("SELECT 1 FROM listings WHERE id = :id FOR UPDATE"),
                                 {"id": listing.id})
            first = asyncio.create_task(pets.post("/bookings", json=request, headers=headers))
            await until_waiting(committed)

            second = await asyncio.wait_for(
                pets.post("/bookings", json=request, headers=headers), 2)
            await holder.rollback()
            first = await first
            third = await pets.post("/bookings", json=request, headers=headers)

        assert second.status_code == 409
        assert "still being processed" in second.json()["detail"]
        assert first.status_code == 201
        assert third.status_code == 201 and third.json() == first.json()
        assert await bookings_of(committed, listing.id) == 1
