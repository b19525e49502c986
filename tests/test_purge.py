"""Housekeeping deletes what has served its purpose and keeps everything else: from the
main app every few minutes, and from `panamia purge` for cron."""

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from typer.testing import CliRunner

from panamia import purge
from panamia.apps.main import create_app
from panamia.cli import app as panamia_cli
from panamia.db.postgres import new_id
from panamia.errors import TooManyRequests
from panamia.identity import ratelimit
from panamia.identity.models import Session, VerificationToken
from panamia.outbox.models import OutboxEvent
from panamia.resources import Resources
from panamia.sidecar.models import IdempotencyKey
from tests.fixtures.servers import free_port
from tests.identity.factories import create_user

NOW = datetime.now(UTC)
tokens, sessions, outbox = VerificationToken.__table__, Session.__table__, OutboxEvent.__table__


async def add_tokens(resources: Resources, **expires: datetime) -> None:
    """A sign-in link per name, expiring when given."""
    async with resources.db.begin() as db:
        for name, at in expires.items():
            await db.execute(insert(tokens).values(identifier=f"{name}@example.org",
                                                   token=new_id(), expires=at))


async def remaining_tokens(resources: Resources) -> set[str]:
    async with resources.db.begin() as db:
        return {i.split("@")[0] for i in (await db.execute(select(tokens.c.identifier))).scalars()}


async def add_sessions(resources: Resources, **rows: dict) -> None:
    user_id = await create_user(resources)
    async with resources.db.begin() as db:
        for name, values in rows.items():
            await db.execute(insert(sessions).values(id=name, session_token=new_id(),
                                                     user_id=user_id, **values))


async def remaining(resources: Resources, column) -> set:
    async with resources.db.begin() as db:
        return set((await db.execute(select(column))).scalars())


async def purged(resources: Resources, **options) -> dict[str, int]:
    return await purge.purge(resources.db, resources.settings, NOW, **options)


class TestPurge:
    async def test_expired_sign_in_links_go_and_live_ones_stay(self, resources):
        await add_tokens(resources, spent=NOW - timedelta(seconds=1),
                         live=NOW + timedelta(hours=23))
        deleted = await purged(resources)
        assert await remaining_tokens(resources) == {"live"}
        assert deleted["expired sign-in links"] == 1

    async def test_sessions_past_their_expiry_or_their_absolute_lifetime_go(self, resources):
        days = resources.settings.session_absolute_days
        await add_sessions(
            resources,
            expired={"expires": NOW - timedelta(minutes=1)},
            # Slid past the absolute lifetime, as a Next.js app sharing the table may do.
            too_old={"created_at": NOW - timedelta(days=days, minutes=1),
                     "expires": NOW + timedelta(days=10)},
            old_but_allowed={"created_at": NOW - timedelta(days=days - 1),
                             "expires": NOW + timedelta(days=1)},
            fresh={"expires": NOW + timedelta(days=30)},
        )
        await purged(resources)
        assert await remaining(resources, sessions.c.id) == {"old_but_allowed", "fresh"}

    async def test_outbox_events_go_a_week_after_delivery_and_pending_ones_never(
        self, resources
    ):
        ages = {"delivered_long_ago": NOW - purge.KEEP_DELIVERED - timedelta(minutes=1),
                "delivered_recently": NOW - purge.KEEP_DELIVERED + timedelta(hours=1),
                "pending": None}
        async with resources.db.begin() as db:
            for topic, delivered_at in ages.items():
                await db.execute(insert(outbox).values(
                    id=new_id(), topic=topic, payload={}, delivered_at=delivered_at,
                    created_at=NOW - timedelta(days=30),
                ))
        await purged(resources)
        assert await remaining(resources, outbox.c.topic) == {"delivered_recently", "pending"}

    async def test_ended_rate_limit_windows_go_and_a_full_current_one_still_refuses(
        self, resources
    ):
        hourly = ratelimit.Limit(1, timedelta(hours=1))
        async with resources.db.begin() as db:
            for key, at in (("yesterday", NOW - ratelimit.LONGEST_WINDOW - hourly.per),
                            ("now", NOW)):
                await ratelimit.hit(db, key, hourly, at)
        await purged(resources)
        assert await remaining(resources, ratelimit.windows.c.key) == {"now"}
        try:
            async with resources.db.begin() as db:
                await ratelimit.hit(db, "now", hourly, NOW)
        except TooManyRequests:
            pass
        else:
            raise AssertionError("the purge emptied a window that had not ended")

    async def test_idempotency_keys_of_every_sidecar_go_after_24_hours(self, resources):
        user_id = await create_user(resources)
        keys = {("pets.bookings", "old"): NOW - timedelta(minutes=1),
                ("exchange.bids", "old"): NOW - timedelta(hours=1),
                ("rentals.requests", "new"): NOW + timedelta(hours=23)}
        async with resources.db.begin() as db:
            for (scope, key), expires_at in keys.items():
                await db.execute(insert(IdempotencyKey).values(
                    user_id=user_id, scope=scope, key=key, request_hash="h",
                    expires_at=expires_at))
        deleted = await purged(resources)
        assert await remaining(resources, IdempotencyKey.scope) == {"rentals.requests"}
        assert deleted["expired idempotency keys"] == 2

    async def test_deletes_in_batches_to_the_end(self, resources):
        await add_tokens(resources, **{f"spent{i}": NOW - timedelta(hours=i + 1) for i in range(5)})
        deleted = await purged(resources, batch_size=2)
        assert await remaining_tokens(resources) == set()
        assert deleted["expired sign-in links"] == 5


class TestInTheBackground:
    async def test_the_main_app_purges_while_it_runs(self, committed_identity, monkeypatch):
        monkeypatch.setattr(purge, "INTERVAL", 0.05)
        await add_tokens(committed_identity, spent=datetime.now(UTC) - timedelta(minutes=1))
        app = create_app(committed_identity.settings, committed_identity)
        async with app.router.lifespan_context(app):
            for _ in range(50):
                if not await remaining_tokens(committed_identity):
                    break
                await asyncio.sleep(0.1)
        assert await remaining_tokens(committed_identity) == set()

    async def test_a_database_outage_costs_a_warning_not_the_service(self, settings, caplog):
        down = settings.model_copy(
            update={"postgres_url": f"postgresql://nobody@127.0.0.1:{free_port()}/none"})
        unreachable = Resources.open(down, "tests")
        stop = asyncio.Event()
        try:
            with caplog.at_level(logging.WARNING, logger=purge.__name__):
                task = asyncio.create_task(
                    purge.run_forever(unreachable, interval=0.02, stop=stop))
                await asyncio.sleep(0.5)
                assert not task.done()
                stop.set()
                await asyncio.wait_for(task, 2)
        finally:
            await unreachable.close()
        failures = [r.getMessage() for r in caplog.records if r.name == purge.__name__]
        assert len(failures) >= 2 and all("purge failed" in f for f in failures)


async def test_panamia_purge_deletes_once_and_says_what(committed_identity, cli_env):
    await add_tokens(committed_identity, spent=NOW - timedelta(minutes=1),
                     live=NOW + timedelta(hours=1))
    result = await asyncio.to_thread(CliRunner().invoke, panamia_cli, ["purge"])
    assert result.exit_code == 0, result.output
    assert await remaining_tokens(committed_identity) == {"live"}
    reported = dict(re.findall(r"^(.+): (\d+) deleted$", result.output, re.MULTILINE))
    assert reported["expired sign-in links"] == "1"
    assert set(reported) == set(purge.stale_rows(committed_identity.settings, NOW))


async def test_panamia_purge_without_a_database_says_so(cli_env, monkeypatch):
    monkeypatch.setenv("POSTGRES_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    result = await asyncio.to_thread(CliRunner().invoke, panamia_cli, ["purge"])
    assert result.exit_code == 2
    assert "PostgreSQL is unreachable" in result.output
