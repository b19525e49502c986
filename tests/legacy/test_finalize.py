"""`finalize`: only after a passing verify; an archive that reads back exactly; then drops.
And the operator's commands end to end: run --ref/--alias, verify, finalize, rollback-refs."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp, json_util
from typer.testing import CliRunner

from panamia.legacy import finalize, refs
from panamia.legacy.auth import run_auth
from panamia.legacy.cli import legacy_app
from panamia.legacy.progress import Move
from panamia.settings import get_settings
from tests.fixtures.database import migrated_database
from tests.fixtures.resources import TEST_SECRET
from tests.legacy.factories import account_doc, insert, session_doc, token_doc, user_doc

EXOTIC = {"long": Int64(7), "int": 7, "float": 1.5, "decimal": Decimal128(Decimal("1.10")),
          "uuid": Binary(uuid.UUID(int=5).bytes, 4), "bytes": b"\x00\xff",
          "regex": Regex("^a", "i"), "ts": Timestamp(1700000000, 3), "min": MinKey(),
          "max": MaxKey(), "when": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
          "old": datetime(1901, 1, 1, tzinfo=UTC),
          "nested": [{"a": [None, True]}], "text": "ñ"}


async def seed_legacy(mongo) -> dict:
    ana, bo = ObjectId(), ObjectId()
    users = [user_doc(_id=ana, email="Ana@Example.org", name="Ana", extra=EXOTIC),
             user_doc(_id=bo, email="bo@example.org", role="admin"), user_doc(email="broken")]
    await insert(mongo, "users", users)
    await insert(mongo, "accounts", [account_doc(ana), account_doc(bo, provider="google")])
    await insert(mongo, "sessions", [session_doc(ana), session_doc(bo)])
    await insert(mongo, "verification_tokens", [token_doc("ana@example.org")])
    await mongo.profiles.insert_many([{"userId": ana}, {"userId": str(bo)}])
    await mongo.articles.insert_one({"slug": "a", "authorId": ana, "coAuthorIds": [],
                                     "coAuthors": [{"userId": bo}]})
    return {"ana": ana, "bo": bo}


async def move(resources) -> None:
    await run_auth(Move(db=resources.db, mongo=resources.mongo,
                        secret=resources.settings.secret))
    await refs.run_refs(resources.mongo, resources.db, refs=["articles.coAuthors.userId"])


async def legacy_snapshot(mongo) -> dict[str, list[dict]]:
    return {n: [d async for d in mongo.get_collection(n, codec_options=finalize.CODEC).find()
                .sort("_id", 1)]
            for n in await mongo.list_collection_names() if n.startswith("nextauth_")}


class TestFinalize:
    async def test_refused_while_verify_fails(self, resources, tmp_path):
        await seed_legacy(resources.mongo)
        await run_auth(Move(db=resources.db, mongo=resources.mongo,
                            secret=resources.settings.secret))  # phase 3 not run

        with pytest.raises(finalize.Refused, match="verify does not pass .*references"):
            await finalize.finalize(resources.mongo, resources.db, tmp_path / "archive")

        assert not (tmp_path / "archive").exists()
        assert len(await legacy_snapshot(resources.mongo)) == 4

    async def test_archives_exactly_then_drops(self, resources, tmp_path):
        await seed_legacy(resources.mongo)
        await move(resources)
        before = await legacy_snapshot(resources.mongo)

        manifest = await finalize.finalize(resources.mongo, resources.db, tmp_path,
                                           secret=resources.settings.secret)

        assert await legacy_snapshot(resources.mongo) == {}
        assert {n: e["documents"] for n, e in manifest.collections.items()} == {
            n: len(docs) for n, docs in before.items()}
        on_disk = json.loads((tmp_path / finalize.MANIFEST).read_text())
        assert on_disk["collections"] == manifest.collections
        for name, docs in before.items():
            lines = (tmp_path / f"{name}.jsonl").read_text().splitlines()
            assert [json_util.loads(line, json_options=finalize.JSON) for line in lines] == docs
        assert not finalize.check_archive(tmp_path, manifest)
        ana = before["nextauth_users"][0]["extra"]
        assert ana == EXOTIC and isinstance(ana["long"], Int64)

    async def test_a_damaged_archive_is_detected(self, resources, tmp_path):
        await seed_legacy(resources.mongo)
        await move(resources)
        manifest = await finalize.finalize(resources.mongo, resources.db, tmp_path)
        path = tmp_path / "nextauth_users.jsonl"
        path.write_text(path.read_text().replace('"$numberLong": "7"', '"$numberInt": "7"'))

        problems = finalize.check_archive(tmp_path, manifest)

        assert [p.split(": ")[1].split(" is ")[0] for p in problems] == ["sha256",
                                                                         "BSON read back"]

    async def test_a_run_killed_while_dropping_finishes_on_rerun(self, resources, tmp_path,
                                                                monkeypatch):
        await seed_legacy(resources.mongo)
        await move(resources)
        database = type(resources.mongo)
        drop = database.drop_collection
        dropped = []

        async def crash_after_one(self, name, *args, **kwargs):
            if dropped:
                raise RuntimeError("killed")
            dropped.append(name)
            return await drop(self, name, *args, **kwargs)

        monkeypatch.setattr(database, "drop_collection", crash_after_one)
        with pytest.raises(RuntimeError):
            await finalize.finalize(resources.mongo, resources.db, tmp_path)
        monkeypatch.setattr(database, "drop_collection", drop)
        with pytest.raises(finalize.Refused, match="already archived to"):
            await finalize.finalize(resources.mongo, resources.db, tmp_path / "elsewhere")

        manifest = await finalize.finalize(resources.mongo, resources.db, tmp_path)

        assert len(manifest.collections) == 4
        assert await legacy_snapshot(resources.mongo) == {}


@pytest.fixture
async def operator_env(server_urls, mongo_client, monkeypatch):
    """A committed database and a fresh MongoDB database, named in the environment."""
    async with migrated_database("panamia_finalize") as url:
        mongo_db = f"operator_{uuid.uuid4().hex[:10]}"
        for key, value in {"PANAMIA_ENV": "test", "POSTGRES_URL": url, "MONGODB_DB": mongo_db,
                           "MONGODB_URL": server_urls[1], "AUTH_SECRET": TEST_SECRET}.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        yield mongo_client[mongo_db]
        get_settings.cache_clear()
        await mongo_client.drop_database(mongo_db)


async def cli(*args: str):
    return await asyncio.to_thread(CliRunner().invoke, legacy_app, list(args))


async def test_the_operators_runbook(operator_env, tmp_path):
    mongo = operator_env
    ids = await seed_legacy(mongo)
    app_user = ObjectId()
    await mongo.users.insert_one({"_id": app_user, "email": "ANA@example.org"})
    await mongo.notifications.insert_one({"targetId": app_user, "actorId": None})

    bad = await cli("run", "--ref", "articles..x")
    assert bad.exit_code == 2 and "--ref 'articles..x'" in bad.output
    bad = await cli("run", "--keep-role", " Admin ")
    assert bad.exit_code == 2 and "--keep-role ' Admin '" in bad.output
    ran = await cli("run", "--ref", "articles.coAuthors.userId", "--rejects",
                    str(tmp_path / "rejects.jsonl"), "--keep-role", "admin")
    assert ran.exit_code == 0, ran.output
    assert '"admin" -> admin' in ran.output
    failed = await cli("verify", "--json")
    assert failed.exit_code == 1
    report = json.loads(failed.output)
    [targets] = [c for c in report["checks"] if c["name"] == "references notifications.targetId"]
    assert targets["problems"] == [f"notifications {(await mongo.notifications.find_one())['_id']}"
                                   f": targetId holds a legacy id: {app_user}"]
    refused = await cli("finalize", "--archive", str(tmp_path / "archive"))
    assert refused.exit_code == 1 and "verify does not pass" in refused.output

    assert (await cli("run", "--phase", "refs", "--alias", "users:email")).exit_code == 0
    verified = await cli("verify")
    assert verified.exit_code == 0, verified.output
    assert "verified" in verified.output

    rolled = await cli("rollback-refs", "--ref", "articles.coAuthors.userId")
    assert rolled.exit_code == 0, rolled.output
    assert (await mongo.articles.find_one())["coAuthors"] == [{"userId": ids["bo"]}]
    assert (await cli("verify")).exit_code == 1
    rerun = await cli("run", "--phase", "refs", "--ref", "articles.coAuthors.userId",
                      "--alias", "users:email")
    assert rerun.exit_code == 0, rerun.output

    done = await cli("finalize", "--archive", str(tmp_path / "archive"))
    assert done.exit_code == 0, done.output
    assert not [n for n in await mongo.list_collection_names() if n.startswith("nextauth_")]
    assert (tmp_path / "archive" / "nextauth_sessions.jsonl").exists()
