"""`plan` tells what `run` will do, and writes nothing anywhere."""

import hashlib

from bson import json_util
from sqlalchemy import text

from panamia.db.postgres import create_engine
from panamia.legacy.auth import run_auth
from panamia.legacy.plan import plan_auth
from tests.identity.factories import create_user
from tests.legacy.cli import cli_env, run_cli
from tests.legacy.factories import NOW, seed_messy
from tests.legacy.test_auth import move

TABLES = ("users", "accounts", "sessions", "verification_tokens", "legacy_id_map",
          "legacy_rejects", "legacy_progress")


def outcomes(checkpoints) -> dict[str, dict]:
    return {cp.step: {k: v for k, v in cp.counts.items() if k != "asOf"} for cp in checkpoints}


async def postgres_content(conn) -> dict[str, str]:
    return {table: (await conn.execute(text(
        f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')"
        f" FROM {table} t"))).scalar() for table in TABLES}


async def mongo_content(mongo) -> dict[str, str]:
    content = {}
    for name in sorted(await mongo.list_collection_names()):
        docs = await mongo[name].find().sort("_id", 1).to_list()
        content[name] = hashlib.sha256(json_util.dumps(docs).encode()).hexdigest()
    return content


async def test_the_plan_is_what_the_run_then_does(resources, connection):
    await create_user(resources, email="native@example.org", email_verified=NOW)
    await seed_messy(resources.mongo, native_email="native@example.org",
                     taken_screenname="someone_else")
    before = await postgres_content(connection)

    planned = await plan_auth(move(resources))

    assert await postgres_content(connection) == before
    done = await run_auth(move(resources))
    assert outcomes(planned) == outcomes(done)
    assert outcomes(planned)["auth.users"]["merged"] == 2
    assert outcomes(await plan_auth(move(resources))) == outcomes(done)  # nothing left to do


async def test_plan_writes_nothing_anywhere(
        empty_databases, legacy_mongo, server_urls, tmp_path):
    url = empty_databases[0]
    await seed_messy(legacy_mongo, native_email="native@example.org", taken_screenname="x_y")
    engine = create_engine(url, "tests")
    async with engine.connect() as conn:
        before = await postgres_content(conn)
    mongo_before = await mongo_content(legacy_mongo)
    env = cli_env(url, server_urls[1], legacy_mongo.name)

    code, out = await run_cli(env, tmp_path, "plan", "--batch-size", "5", "--keep-role", "admin")

    assert code == 0, out
    assert "nothing was written" in out
    assert "auth.users" in out and "invalid email" in out
    assert '"admin" -> admin' in out and "(none) -> user" in out
    async with engine.connect() as conn:
        assert await postgres_content(conn) == before
    await engine.dispose()
    assert await mongo_content(legacy_mongo) == mongo_before
    assert list(tmp_path.iterdir()) == []

    code, out = await run_cli(env, tmp_path, "plan", "--prefix", "next_auth_")
    assert code == 2
    assert "no collection next_auth_users" in out and "nextauth_users" in out
