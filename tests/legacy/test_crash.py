"""`kill -9` at random points, then a rerun: the same state an uninterrupted run reaches."""

import asyncio
import hashlib
import json
import random

from sqlalchemy import text

from panamia.db.postgres import create_engine, create_sessionmaker
from panamia.legacy.auth import run_auth
from panamia.legacy.progress import Move, NullTicker
from tests.fixtures.resources import TEST_SECRET
from tests.legacy.cli import cli_env, run_cli, start_cli
from tests.legacy.factories import seed_bulk

NATIVE_ID = "native00000000000000000001"
NATIVE_EMAIL = "first@example.org"  # also a legacy email: a merge into a native user
USERS = 60
KILLS = 4
BATCH_SIZE = 4


async def add_native_user(url: str) -> None:
    engine = create_engine(url, "tests")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO users (id, email, email_verified) "
                                "VALUES (:id, :email, '2025-01-01T00:00:00Z')"),
                           {"id": NATIVE_ID, "email": NATIVE_EMAIL})
    await engine.dispose()


async def migrate_uninterrupted(url: str, mongo) -> None:
    """The same move in this process, in one go (one process start fewer)."""
    engine = create_engine(url, "tests")
    await run_auth(Move(db=create_sessionmaker(engine), mongo=mongo, secret=TEST_SECRET,
                        batch_size=BATCH_SIZE))
    await engine.dispose()


async def records_read(conn) -> int:
    return (await conn.execute(text(
        "SELECT coalesce(sum((counts->>'read')::int), 0) FROM legacy_progress"))).scalar()


async def content(url: str) -> dict[str, tuple[int, str]]:
    """Each table as (rows, sha256 of its rows in order), new ids replaced by the legacy id
    they were made for: cuids are random, what they stand for is not."""
    engine = create_engine(url, "tests")
    async with engine.connect() as conn:
        async def q(sql: str) -> list:
            return [tuple(row) for row in await conn.execute(text(sql))]

        made = {}
        for kind, legacy_id, new_id in await q(
                "SELECT kind, legacy_id, new_id FROM legacy_id_map WHERE outcome = 'imported'"):
            made[new_id] = f"{kind}:{legacy_id}"
        tables = {
            "users": await q("SELECT id, email, email_verified, name, image, screenname, role "
                             "FROM users"),
            "accounts": await q("SELECT id, user_id, type, provider, provider_account_id, "
                                "access_token, refresh_token, expires_at, token_type, scope, "
                                "id_token, session_state FROM accounts"),
            "sessions": await q("SELECT id, user_id, session_token, expires FROM sessions"),
            "legacy_id_map": await q("SELECT new_id, kind, legacy_id, outcome "
                                     "FROM legacy_id_map"),
            "legacy_rejects": await q("SELECT collection, legacy_id, reason, document::text "
                                      "FROM legacy_rejects"),
            "legacy_progress": [
                (step, cursor, json.dumps({k: v for k, v in counts.items() if k != "asOf"},
                                          sort_keys=True), finished is not None)
                for step, cursor, counts, finished in await q(
                    "SELECT step, cursor, counts, finished_at FROM legacy_progress")],
        }
    await engine.dispose()
    digest = {}
    for name, rows in tables.items():
        rows = sorted(repr(tuple(made.get(v, v) if isinstance(v, str) else v for v in row))
                      for row in rows)
        digest[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return digest


async def test_kill_9_at_random_points_then_rerun_converges(
        empty_databases, legacy_mongo, server_urls, tmp_path):
    interrupted, clean = empty_databases
    await seed_bulk(legacy_mongo, users=USERS, seed=7)
    for url in (interrupted, clean):
        await add_native_user(url)
    args = ("run", "--phase", "auth", "--batch-size", str(BATCH_SIZE),
            "--rejects", "rejects.jsonl")
    env = cli_env(interrupted, server_urls[1], legacy_mongo.name)
    rng = random.Random(20261125)
    total = USERS * 3 + 5
    targets = sorted(rng.sample(range(4, total - 40), KILLS))  # room left to kill

    engine = create_engine(interrupted, "tests", isolation_level="AUTOCOMMIT")
    kills_mid_run = 0
    async with engine.connect() as conn:
        for target in targets:
            process = await start_cli(env, tmp_path, *args, quiet=True)
            while await records_read(conn) < target and process.returncode is None:
                await asyncio.sleep(0.005)
            await asyncio.sleep(rng.uniform(0, 0.03))  # land anywhere in the next batch
            if process.returncode is None:
                process.kill()
                kills_mid_run += 1
            await process.wait()
        read_before_last = await records_read(conn)
    await engine.dispose()

    code, out = await run_cli(env, tmp_path, *args)
    assert code == 0, out
    assert kills_mid_run == KILLS and 0 < read_before_last < total
    await migrate_uninterrupted(clean, legacy_mongo)

    after_kills, uninterrupted = await content(interrupted), await content(clean)
    assert after_kills == uninterrupted
    assert all(rows for rows, _ in uninterrupted.values())
    assert "merged into a user who signed up on the new system" in out
    lines = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert len(lines) == uninterrupted["legacy_rejects"][0]
    assert set(json.loads(lines[0])) == {"collection", "legacyId", "reason", "document"}
    # Seeded: unverified users earlier by _id than a verified one with their address.
    assert any("another legacy user verified this address" in json.loads(line)["reason"]
               for line in lines)


class Tally(NullTicker):
    """How many records one run read itself."""

    def __init__(self):
        self.read = 0

    def advance(self, step: str, n: int) -> None:
        self.read += n


async def test_two_runs_at_once_take_turns_and_reach_what_one_run_does(
        empty_databases, legacy_mongo):
    together, alone = empty_databases
    await seed_bulk(legacy_mongo, users=USERS, seed=11)
    for url in (together, alone):
        await add_native_user(url)
    engines = [create_engine(together, "tests") for _ in range(2)]
    tallies = [Tally(), Tally()]
    try:
        await asyncio.gather(*(
            run_auth(Move(db=create_sessionmaker(engine), mongo=legacy_mongo,
                          secret=TEST_SECRET, batch_size=BATCH_SIZE, ticker=tally))
            for engine, tally in zip(engines, tallies)))
    finally:
        for engine in engines:
            await engine.dispose()
    await migrate_uninterrupted(alone, legacy_mongo)

    assert await content(together) == await content(alone)
    assert all(tally.read for tally in tallies)  # both read batches, turn about
    assert sum(tally.read for tally in tallies) == USERS * 3 + 5  # each record once
