"""Pending requests expire 48 hours after they were made: by the sweep, the CLI, or a test."""

import asyncio
from datetime import UTC, datetime, timedelta

import typer
from sqlalchemy import select, update
from typer.testing import CliRunner

from panamia.outbox import relay
from panamia.pets.bookings import expiry
from panamia.pets.bookings.expiry import expire_pending
from panamia.pets.models import Booking
from panamia.pets.cli import pets_app
from panamia.settings import get_settings
from panamia.sidecar.models import IdempotencyKey
from tests.pets.bookings.factories import create_booking
from tests.pets.factories import create_listing


async def panamia(*args: str):
    """Run `panamia …` as the top-level CLI wires the pets commands, in a thread (it runs its
    own event loop)."""
    app = typer.Typer()
    app.add_typer(pets_app, name="pets")
    get_settings.cache_clear()
    try:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args))
    finally:
        get_settings.cache_clear()


async def statuses(resources, *ids: str) -> list[str]:
    async with resources.reads() as db:
        rows = await db.execute(
            select(Booking.id, Booking.status).where(Booking.id.in_(ids)))
        found = {booking_id: status for booking_id, status in rows}
    return [found[i] for i in ids]


async def made_at(resources, booking_id: str) -> datetime:
    async with resources.reads() as db:
        return (await db.execute(select(Booking.created_at).where(Booking.id == booking_id))
                ).scalar_one()


class TestExpirePending:
    async def test_after_48_hours_not_before(self, resources):
        pending = await create_booking(resources)
        confirmed = await create_booking(resources, status="confirmed")
        made = await made_at(resources, pending.id)

        early = await expire_pending(resources.db, made + timedelta(hours=47, minutes=59))
        due = await expire_pending(resources.db, made + timedelta(hours=48))
        again = await expire_pending(resources.db, made + timedelta(hours=49))

        assert (early, due, again) == ([], [pending.id], [])
        assert await statuses(resources, pending.id, confirmed.id) == ["expired", "confirmed"]

    async def test_the_owner_is_told(self, resources):
        booking = await create_booking(resources)
        await expire_pending(resources.db, datetime.now(UTC) + timedelta(hours=49))
        await relay.drain(resources)
        notes = await resources.mongo.notifications.find({"targetId": booking.owner_id}
                                                         ).to_list()
        assert [(n["type"], n["actorId"]) for n in notes] == [("Update", None)]
        assert notes[0]["object"]["summary"].startswith("Expired unanswered: ")

    async def test_in_batches(self, resources):
        listing = await create_listing(resources)
        ids = [(await create_booking(resources, listing=listing, start=day)).id for day in (
            datetime.now(UTC).date() + timedelta(days=10 + 3 * i) for i in range(5))]
        expired = await expire_pending(resources.db, datetime.now(UTC) + timedelta(days=3),
                                       batch_size=2)
        assert sorted(expired) == sorted(ids)


class TestSweep:
    async def test_the_sidecar_sweeps_in_the_background(self, committed):
        booking = await create_booking(committed)
        async with committed.db.begin() as db:
            await db.execute(update(Booking).where(Booking.id == booking.id).values(
                created_at=datetime.now(UTC) - timedelta(hours=49)))
            await db.execute(update(IdempotencyKey).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        stop = asyncio.Event()
        task = asyncio.create_task(expiry.run_forever(committed, interval=0.05, stop=stop))
        try:
            for _ in range(100):
                if await statuses(committed, booking.id) == ["expired"]:
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
        assert await statuses(committed, booking.id) == ["expired"]

    async def test_panamia_pets_expire(self, committed, committed_settings, monkeypatch):
        booking = await create_booking(committed)
        async with committed.db.begin() as db:
            await db.execute(update(Booking).where(Booking.id == booking.id).values(
                created_at=datetime.now(UTC) - timedelta(hours=49)))
        for name, value in {"PANAMIA_ENV": "test", "AUTH_SECRET": committed_settings.auth_secret,
                            "POSTGRES_URL": committed_settings.postgres_url}.items():
            monkeypatch.setenv(name, value)
        result = await panamia("pets", "expire")

        assert result.exit_code == 0, result.output
        assert "expired 1 pending booking request(s)" in result.output
        assert await statuses(committed, booking.id) == ["expired"]

    async def test_the_cli_says_what_to_set(self, monkeypatch):
        monkeypatch.setenv("POSTGRES_URL", "")
        result = await panamia("pets", "expire")
        assert result.exit_code == 2 and "POSTGRES_URL" in result.output
