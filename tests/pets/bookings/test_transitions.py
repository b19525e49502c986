"""Confirm, decline, cancel, complete: legal and illegal steps, timing, races, notices."""

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from panamia.apps.pets import create_app
from panamia.outbox import relay
from panamia.outbox.models import OutboxEvent
from panamia.pets.models import Booking
from tests.fixtures.database import until_waiting
from tests.fixtures.http import asgi_client, signed_in_cookies
from tests.pets.bookings.factories import create_booking
from tests.pets.factories import act_as, create_listing, insert_booking


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


class TestLegal:
    @pytest.mark.parametrize(("step", "actor", "status", "activity"), [
        ("confirm", "sitter", "confirmed", "Accept"),
        ("decline", "sitter", "declined", "Reject"),
        ("cancel", "owner", "cancelled", "Update"),
        ("cancel", "sitter", "cancelled", "Update"),
    ])
    async def test_from_pending(self, pets, client, resources, step, actor, status, activity):
        booking = await create_booking(resources)
        parties = {"owner": booking.owner_id, "sitter": booking.sitter_id}
        headers = await act_as(pets, client, resources, parties[actor])

        response = await pets.post(f"/bookings/{booking.id}/{step}", headers=headers)

        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["status"] == status
        assert changed[f"{status}At"] is not None
        if step == "cancel":
            assert changed["cancelledBy"] == parties[actor]
        other = booking.sitter_id if actor == "owner" else booking.owner_id
        await relay.drain(resources)
        notes = await resources.mongo.notifications.find({"targetId": other}).to_list()
        assert [(n["type"], n["actorId"]) for n in notes if n["type"] != "Offer"] == [
            (activity, parties[actor])]

    async def test_a_confirmed_booking_can_still_be_cancelled(self, pets, client, resources):
        booking = await create_booking(resources, status="confirmed")
        headers = await act_as(pets, client, resources, booking.owner_id)
        response = await pets.post(f"/bookings/{booking.id}/cancel", headers=headers)
        assert response.json()["status"] == "cancelled"

    async def test_complete_from_the_check_out_day(self, pets, client, resources):
        listing = await create_listing(resources, timezone="Europe/Berlin")
        today = today_in("Europe/Berlin")
        booking_id = await insert_booking(resources, listing, start_date=today - timedelta(
            days=3), end_date=today, status="confirmed")
        headers = await act_as(pets, client, resources, listing.sitter_id)

        response = await pets.post(f"/bookings/{booking_id}/complete", headers=headers)

        assert response.status_code == 200
        assert response.json()["status"] == "completed"


class TestIllegal:
    @pytest.mark.parametrize(("status", "step"), [
        ("declined", "confirm"), ("cancelled", "confirm"), ("confirmed", "confirm"),
        ("confirmed", "decline"), ("cancelled", "cancel"), ("declined", "cancel"),
        ("pending", "complete"), ("cancelled", "complete"),
    ])
    async def test_409_naming_the_status(self, pets, client, resources, status, step):
        booking = await create_booking(resources, status=status)
        headers = await act_as(pets, client, resources, booking.sitter_id)

        response = await pets.post(f"/bookings/{booking.id}/{step}", headers=headers)

        assert response.status_code == 409
        assert response.json()["error"] == "conflict"
        assert f"The booking is {status}" in response.json()["detail"]

    @pytest.mark.parametrize("days_from_start", [0, -1])
    async def test_no_cancelling_on_or_after_the_start_date(
        self, pets, client, resources, days_from_start
    ):
        listing = await create_listing(resources, timezone="Asia/Tokyo")
        start = today_in("Asia/Tokyo") + timedelta(days=days_from_start)
        booking_id = await insert_booking(resources, listing, start_date=start,
                                          status="confirmed")
        headers = await act_as(pets, client, resources, listing.sitter_id)

        response = await pets.post(f"/bookings/{booking_id}/cancel", headers=headers)

        assert response.status_code == 409
        assert "The booking is confirmed and its stay began" in response.json()["detail"]

    async def test_no_completing_before_the_check_out_day(self, pets, client, resources):
        listing = await create_listing(resources)
        booking = await create_booking(resources, listing=listing, status="confirmed")
        headers = await act_as(pets, client, resources, listing.sitter_id)
        response = await pets.post(f"/bookings/{booking.id}/complete", headers=headers)
        assert response.status_code == 409
        assert "from that day on" in response.json()["detail"]

    async def test_no_confirming_a_request_older_than_48_hours(self, pets, client, resources):
        listing = await create_listing(resources)
        booking_id = await insert_booking(
            resources, listing, start_date=date.today() + timedelta(days=20), status="pending",
            created_at=datetime.now(UTC) - timedelta(hours=49))
        headers = await act_as(pets, client, resources, listing.sitter_id)
        response = await pets.post(f"/bookings/{booking_id}/confirm", headers=headers)
        assert response.status_code == 409
        assert "expired" in response.json()["detail"]


async def _race(committed, committed_settings, steps: list[tuple[str, str]], booking_id: str):
    """Send the steps, each as its actor, queued in this order behind a lock on the booking's
    row (PostgreSQL grants a row's waiters in turn), then let them go; returns the responses."""
    app = create_app(committed_settings, committed)
    async with AsyncExitStack() as stack:
        holder = await stack.enter_async_context(committed.engine.connect())
        await holder.begin()
        await holder.execute(text("SELECT 1 FROM bookings WHERE id = :id FOR UPDATE"),
                             {"id": booking_id})
        calls = []
        for actor, step in steps:
            pets = await stack.enter_async_context(asgi_client(app))
            cookies, headers = await signed_in_cookies(committed, actor)
            pets.cookies.update(cookies)
            calls.append(asyncio.create_task(
                pets.post(f"/bookings/{booking_id}/{step}", headers=headers)))
            await until_waiting(committed, len(calls))
        await holder.rollback()
        return await asyncio.gather(*calls)


async def status_of(resources, booking_id: str) -> str:
    async with resources.reads() as db:
        return (await db.execute(select(Booking.status).where(Booking.id == booking_id))
                ).scalar_one()


class TestRaces:
    """Each step re-checks its WHERE against the row the one before it committed."""

    @pytest.mark.parametrize(("first", "second"), [
        ("cancel", "confirm"), ("confirm", "decline"), ("decline", "confirm"),
        ("cancel", "decline"), ("decline", "cancel"),
    ])
    async def test_of_two_steps_from_pending_only_the_first_wins(
        self, committed, committed_settings, first, second
    ):
        booking = await create_booking(committed)
        actors = {"confirm": booking.sitter_id, "decline": booking.sitter_id,
                  "cancel": booking.owner_id}

        won, lost = await _race(committed, committed_settings, [
            (actors[first], first), (actors[second], second)], booking.id)

        assert (won.status_code, lost.status_code) == (200, 409)
        final = await status_of(committed, booking.id)
        assert final == won.json()["status"]
        assert f"The booking is {final}" in lost.json()["detail"]

    async def test_a_cancel_queued_behind_a_confirm_cancels_the_confirmed_booking(
        self, committed, committed_settings
    ):
        booking = await create_booking(committed)
        confirm, cancel = await _race(committed, committed_settings, [
            (booking.sitter_id, "confirm"), (booking.owner_id, "cancel")], booking.id)
        assert (confirm.status_code, cancel.status_code) == (200, 200)
        assert await status_of(committed, booking.id) == "cancelled"

    async def test_a_double_clicked_confirm_confirms_and_notifies_once(
        self, committed, committed_settings
    ):
        booking = await create_booking(committed)
        responses = await _race(committed, committed_settings, [
            (booking.sitter_id, "confirm"), (booking.sitter_id, "confirm")], booking.id)

        assert [r.status_code for r in responses] == [200, 409]
        async with committed.reads() as db:
            accepts = (await db.execute(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.payload["type"].astext == "Accept",
                OutboxEvent.payload["object"]["id"].astext == booking.id))).scalar_one()
        assert accepts == 1
