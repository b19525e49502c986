"""Phase 3: references to legacy user ids rewritten, kept for rollback, reported when
unresolved, left alone when already new; rollback puts the documents back as they were;
runs killed with SIGKILL at random points converge to the content of an uninterrupted run."""

import asyncio
import copy
import hashlib
import os
import random
import signal
import subprocess
import sys
import uuid
from contextlib import AsyncExitStack

import pytest
from bson import ObjectId, json_util
from sqlalchemy import insert, select

from panamia.db.postgres import create_engine, create_sessionmaker, new_id
from panamia.identity.models import User
from panamia.legacy import refs
from panamia.legacy.models import LegacyIdMap, LegacyProgress, LegacyReject
from panamia.resources import Resources
from panamia.sidecar.registry import ensure_indexes
from tests.fixtures.database import migrated_database


async def add_user(resources: Resources, email: str, legacy: ObjectId | None = None,
                   outcome: str = "imported") -> str:
    user_id = new_id()
    async with resources.db.begin() as db:
        await db.execute(insert(User).values(id=user_id, email=email))
        if legacy:
            await db.execute(insert(LegacyIdMap).values(
                kind="user", legacy_id=str(legacy), new_id=user_id, outcome=outcome))
    return user_id


async def map_legacy(resources: Resources, legacy: ObjectId, user_id: str) -> None:
    async with resources.db.begin() as db:
        await db.execute(insert(LegacyIdMap).values(
            kind="user", legacy_id=str(legacy), new_id=user_id, outcome="merged"))


async def snapshot(resources: Resources, *names: str) -> dict[str, list[dict]]:
    return {n: [d async for d in resources.mongo[n].find().sort("_id", 1)] for n in names}


async def rejects(resources: Resources) -> dict[tuple[str, str], LegacyReject]:
    async with resources.db() as db:
        rows = (await db.execute(select(LegacyReject))).scalars().all()
    return {(r.collection, r.legacy_id): r for r in rows}


class TestRegistryPaths:
    async def test_legacy_ids_become_user_ids_and_the_old_ones_are_kept(self, resources):
        ana_old, bo_old, cy_old = ObjectId(), ObjectId(), ObjectId()
        ana = await add_user(resources, "ana@example.org", ana_old)
        bo = await add_user(resources, "bo@example.org", bo_old)
        cy = await add_user(resources, "cy@example.org", cy_old)
        new_style = await add_user(resources, "new@example.org")
        m = resources.mongo
        await m.profiles.insert_one({"_id": "p1", "userId": ana_old, "name": "Ana"})
        await m.articles.insert_one({"_id": "a1", "slug": "a1", "authorId": str(bo_old).upper(),
                                     "coAuthorIds": [ana_old, new_style, str(cy_old)]})
        await m.notifications.insert_many([
            {"_id": "n1", "targetId": cy_old, "actorId": None},
            {"_id": "n2", "targetId": new_style, "actorId": bo_old},
        ])

        results = await refs.run_refs(m, resources.db, batch_size=2)

        assert await m.profiles.find_one({"_id": "p1"}) == {
            "_id": "p1", "userId": ana, "name": "Ana", "_legacyRefs": {"userId": ana_old}}
        article = await m.articles.find_one({"_id": "a1"})
        assert article["authorId"] == bo and article["coAuthorIds"] == [ana, new_style, cy]
        assert article["_legacyRefs"] == {"authorId": str(bo_old).upper(),
                                          "coAuthorIds": [ana_old, new_style, str(cy_old)]}
        assert await m.notifications.find_one({"_id": "n1"}) == {
            "_id": "n1", "targetId": cy, "actorId": None, "_legacyRefs": {"targetId": cy_old}}
        assert await m.notifications.find_one({"_id": "n2"}) == {
            "_id": "n2", "targetId": new_style, "actorId": bo,
            "_legacyRefs": {"actorId": bo_old}}
        by_step = {r.step: r.counts for r in results}
        assert by_step["refs:articles.coAuthorIds"] | {} == {
            "read": 1, "updated": 1, "rewritten": 2, "alreadyNew": 1, "unresolved": 0,
            "conflicts": 0}
        assert by_step["refs:notifications.targetId"]["alreadyNew"] == 1

    async def test_a_rerun_changes_nothing(self, resources):
        old = ObjectId()
        await add_user(resources, "ana@example.org", old)
        await resources.mongo.articles.insert_many([
            {"_id": i, "slug": f"s{i}", "authorId": old, "coAuthorIds": [old]} for i in range(5)])
        await refs.run_refs(resources.mongo, resources.db, batch_size=2)
        before = await snapshot(resources, "articles")

        again = await refs.run_refs(resources.mongo, resources.db, batch_size=2, fresh=True)

        assert await snapshot(resources, "articles") == before
        counts = {r.step: r.counts for r in again}["refs:articles.authorId"]
        assert (counts["updated"], counts["alreadyNew"], counts["read"]) == (0, 5, 5)

    async def test_a_rerun_of_a_finished_step_reads_only_what_was_added_since(self, resources):
        first, later = ObjectId(), ObjectId()
        await add_user(resources, "ana@example.org", first)
        user = await add_user(resources, "bo@example.org", later)
        await resources.mongo.profiles.insert_one({"_id": first, "userId": first})
        await refs.run_refs(resources.mongo, resources.db)
        await resources.mongo.profiles.insert_one({"_id": later, "userId": str(later)})

        [result] = [r for r in await refs.run_refs(resources.mongo, resources.db)
                    if r.step == "refs:profiles.userId"]

        assert result.resumed and result.counts["read"] == 2  # the first run's one, and one
        assert (await resources.mongo.profiles.find_one({"_id": later}))["userId"] == user


class TestUnresolved:
    async def test_a_reference_to_no_user_is_reported_and_left_as_it_was(self, resources):
        known, unknown = ObjectId(), ObjectId()
        ana = await add_user(resources, "ana@example.org", known)
        await resources.mongo.articles.insert_many([
            {"_id": "a1", "slug": "a1", "authorId": unknown, "coAuthorIds": [known, unknown]},
            {"_id": "a2", "slug": "a2", "authorId": "someone", "coAuthorIds": 7},
        ])

        results = {r.step: r.counts for r in await refs.run_refs(resources.mongo, resources.db)}

        a1 = await resources.mongo.articles.find_one({"_id": "a1"})
        assert a1["authorId"] == unknown and a1["coAuthorIds"] == [ana, unknown]
        assert a1["_legacyRefs"] == {"coAuthorIds": [known, unknown]}
        assert (await resources.mongo.articles.find_one({"_id": "a2"}))["authorId"] == "someone"
        found = await rejects(resources)
        assert set(found) == {("refs:articles.authorId", "a1"), ("refs:articles.authorId", "a2"),
                              ("refs:articles.coAuthorIds", "a1"),
                              ("refs:articles.coAuthorIds", "a2")}
        assert found[("refs:articles.authorId", "a1")].document == {
            "_id": "a1", "path": "authorId", "unresolved": [
                {"value": {"$oid": str(unknown)}, "reason": "legacy id of no imported user"}]}
        assert found[("refs:articles.authorId", "a2")].reason == \
            "not a legacy id and not the id of any user"
        assert results["refs:articles.coAuthorIds"]["unresolved"] == 2

    async def test_a_later_run_that_resolves_them_clears_the_report(self, resources):
        later = ObjectId()
        await resources.mongo.profiles.insert_one({"_id": 1, "userId": later})
        await refs.run_refs(resources.mongo, resources.db)
        assert ("refs:profiles.userId", "1") in await rejects(resources)

        user = await add_user(resources, "late@example.org", later)
        await refs.run_refs(resources.mongo, resources.db)  # the step left some: it runs again

        assert (await resources.mongo.profiles.find_one({"_id": 1}))["userId"] == user
        assert not await rejects(resources)

    async def test_a_merge_that_would_break_a_unique_index_is_reported(self, resources):
        first, second = ObjectId(), ObjectId()
        ana = await add_user(resources, "ana@example.org", first)
        await map_legacy(resources, second, ana)  # phase 2 merged both into one user
        # profiles.userId is unique (ensure_indexes ran for this database)
        await resources.mongo.profiles.insert_many([{"_id": 1, "userId": first},
                                                    {"_id": 2, "userId": second}])

        [result] = [r for r in await refs.run_refs(resources.mongo, resources.db)
                    if r.step == "refs:profiles.userId"]

        assert result.counts["conflicts"] == 1 and result.counts["updated"] == 1
        assert await resources.mongo.profiles.find_one({"_id": 2}) == {"_id": 2, "userId": second}
        reject = (await rejects(resources))[("refs:profiles.userId", "2")]
        assert reject.reason.startswith("the new id would duplicate a unique key")


class TestMorePaths:
    async def test_paths_through_arrays_of_subdocuments(self, resources):
        a, b, c = ObjectId(), ObjectId(), ObjectId()
        ids = [await add_user(resources, f"{n}@example.org", o) for n, o in zip("abc", (a, b, c))]
        await resources.mongo.articles.insert_one({
            "_id": 1, "slug": "x", "authorId": ids[0],
            "coAuthors": [{"userId": a, "status": "accepted"}, {"status": "pending"},
                          {"userId": str(b), "status": "declined"}],
            "reviews": [{"userId": c, "comments": [{"text": "ok"}]}],
            "reviewedBy": {"userId": b, "status": "approved"},
        })

        await refs.run_refs(resources.mongo, resources.db, refs=[
            "articles.coAuthors.userId", "articles.reviews.userId", "articles.reviewedBy.userId"])

        doc = await resources.mongo.articles.find_one({"_id": 1})
        assert doc["coAuthors"] == [{"userId": ids[0], "status": "accepted"},
                                    {"status": "pending"},
                                    {"userId": ids[1], "status": "declined"}]
        assert doc["reviews"] == [{"userId": ids[2], "comments": [{"text": "ok"}]}]
        assert doc["reviewedBy"] == {"userId": ids[1], "status": "approved"}
        assert doc["_legacyRefs"] == {"coAuthors": {"userId": [a, str(b)]},
                                      "reviews": {"userId": [c]}, "reviewedBy": {"userId": b}}

    def test_a_ref_must_name_a_collection_and_a_path(self):
        for bad in ("profiles", "profiles.", ".userId", "a..b", "a.$x", "a._legacyRefs.x",
                    "a.coAuthors.0.userId"):
            try:
                refs.RefPath.parse(bad)
            except ValueError:
                continue
            raise AssertionError(f"{bad!r} was accepted")

    async def test_resuming_after_an_id_of_one_type_still_reaches_the_later_types(self, resources):
        oid = ObjectId()
        await resources.mongo.things.insert_many(
            [{"_id": 5}, {"_id": "b"}, {"_id": "a"}, {"_id": oid}, {"_id": 2.5}])
        after_a = [d["_id"] async for d in
                   resources.mongo.things.find(refs.after("a")).sort("_id", 1)]
        after_5 = [d["_id"] async for d in
                   resources.mongo.things.find(refs.after(5)).sort("_id", 1)]
        assert after_a == ["b", oid] and after_5 == ["a", "b", oid]


class TestAlias:
    async def test_ids_of_the_apps_own_user_collection_resolve_by_email(self, resources):
        nextauth_id, app_id, unknown_app_id = ObjectId(), ObjectId(), ObjectId()
        ana = await add_user(resources, "ana@example.org", nextauth_id)
        await resources.mongo.users.insert_many([
            {"_id": app_id, "email": " Ana@EXAMPLE.org", "screenname": "ana"},
            {"_id": unknown_app_id, "email": "nobody@example.org"},
        ])
        await resources.mongo.notifications.insert_many([
            {"_id": 1, "targetId": app_id, "actorId": str(nextauth_id)},
            {"_id": 2, "targetId": unknown_app_id, "actorId": None},
        ])

        await refs.run_refs(resources.mongo, resources.db, aliases=["users:email"])

        assert await resources.mongo.notifications.find_one({"_id": 1}) == {
            "_id": 1, "targetId": ana, "actorId": ana,
            "_legacyRefs": {"targetId": app_id, "actorId": str(nextauth_id)}}
        reject = (await rejects(resources))[("refs:notifications.targetId", "2")]
        assert reject.reason == (f"no PostgreSQL user has the email of users {unknown_app_id}")

    def test_an_alias_names_an_email_or_screenname_field(self):
        assert refs.Alias.parse("users:email").by_email
        assert not refs.Alias.parse("users:screenname").by_email
        for bad in ("users", "users:name", ":email"):
            try:
                refs.Alias.parse(bad)
            except ValueError:
                continue
            raise AssertionError(f"{bad!r} was accepted")


class TestRollback:
    async def test_rollback_puts_every_document_back_as_it_was(self, resources):
        a, b, unknown = ObjectId(), ObjectId(), ObjectId()
        await add_user(resources, "a@example.org", a)
        await add_user(resources, "b@example.org", b)
        m = resources.mongo
        await m.profiles.insert_many([{"_id": 1, "userId": a}, {"_id": 2, "userId": str(b)}])
        await m.articles.insert_one({
            "_id": 1, "slug": "x", "authorId": unknown, "coAuthorIds": [b, unknown, a],
            "coAuthors": [{"userId": a, "n": 1}, {"userId": unknown}]})
        await m.notifications.insert_one({"_id": 1, "targetId": b, "actorId": None})
        before = copy.deepcopy(await snapshot(resources, "profiles", "articles", "notifications"))
        await refs.run_refs(m, resources.db, refs=["articles.coAuthors.userId"])
        assert await snapshot(resources, "profiles", "articles", "notifications") != before

        counts = await refs.rollback_refs(m, resources.db)

        assert await snapshot(resources, "profiles", "articles", "notifications") == before
        assert counts == {"documents": 4, "restored": 5, "changedSince": 0}
        async with resources.db() as db:
            assert not (await db.execute(select(LegacyProgress.step))).all()
        assert not await rejects(resources)
        assert await refs.rollback_refs(m, resources.db) == {
            "documents": 0, "restored": 0, "changedSince": 0}

    async def test_a_path_whose_values_changed_in_number_is_left_and_counted(self, resources):
        a = ObjectId()
        user = await add_user(resources, "a@example.org", a)
        await resources.mongo.articles.insert_one(
            {"_id": 1, "slug": "x", "authorId": a, "coAuthorIds": [a]})
        await refs.run_refs(resources.mongo, resources.db)
        await resources.mongo.articles.update_one({"_id": 1}, {"$push": {"coAuthorIds": "z"}})

        counts = await refs.rollback_refs(resources.mongo, resources.db)

        assert counts == {"documents": 1, "restored": 1, "changedSince": 1}
        assert await resources.mongo.articles.find_one({"_id": 1}) == {
            "_id": 1, "slug": "x", "authorId": a, "coAuthorIds": [user, "z"],
            "_legacyRefs": {"coAuthorIds": [a]}}


# --- kill -9 and rerun, against committed databases, the runs in their own processes ---

EXTRA_REFS = ["articles.coAuthors.userId", "notifications.actor"]
COLLECTIONS = ("profiles", "articles", "notifications")
BATCH = 4

RUNNER = """
import asyncio, sys
from panamia.db.mongo import create_client
from panamia.db.postgres import create_engine, create_sessionmaker
from panamia.legacy.refs import run_refs

class Ticker:
    def start(self, step, total, done): pass
    def advance(self, step, n): print("batch", flush=True)

async def main(pg, mongo_url, name, batch, *extra):
    engine = create_engine(pg, "crash-test")
    client = create_client(mongo_url, "crash-test")
    await run_refs(client[name], create_sessionmaker(engine), refs=extra, batch_size=int(batch),
                   aliases=["users:email"], ticker=Ticker())
    print("done", flush=True)

asyncio.run(main(*sys.argv[1:]))
"""


def legacy_data(rng: random.Random):
    """Users (legacy id, email, mapped?) and the documents that reference them."""
    oid = lambda: ObjectId(rng.randbytes(12))  # noqa: E731
    users = [(oid(), f"u{i}@example.org", rng.random() > 0.1) for i in range(30)]
    app_users = [{"_id": oid(), "email": f"U{i}@Example.org"} for i in range(0, 30, 3)]
    ids = [u[0] for u in users] + [a["_id"] for a in app_users] + [oid(), "junk"]

    def some(k):
        return [rng.choice(ids) if rng.random() > 0.2 else str(rng.choice(ids))
                for _ in range(k)]

    profiles = [{"_id": oid(), "userId": u[0], "n": i} for i, u in enumerate(users)]
    articles = [{"_id": oid(), "slug": f"a{i}", "authorId": some(1)[0],
                 "coAuthorIds": some(rng.randint(0, 3)),
                 "coAuthors": [{"userId": v, "status": "accepted"} for v in some(2)]}
                for i in range(25)]
    notifications = [{"_id": oid(), "targetId": some(1)[0], "actorId": rng.choice([None, *ids]),
                      "actor": some(1)[0]} for _ in range(30)]
    return users, app_users, {"profiles": profiles, "articles": articles,
                              "notifications": notifications}


async def seed(pg_url: str, mongo, users, app_users, docs) -> None:
    engine = create_engine(pg_url, "tests")
    async with engine.begin() as conn:
        for i, (legacy, email, mapped) in enumerate(users):
            user_id = f"user{i:020d}"
            await conn.execute(insert(User).values(id=user_id, email=email))
            if mapped:
                await conn.execute(insert(LegacyIdMap).values(
                    kind="user", legacy_id=str(legacy), new_id=user_id, outcome="imported"))
    await engine.dispose()
    await ensure_indexes(mongo)
    await mongo.users.insert_many(app_users)
    for name, items in docs.items():
        await mongo[name].insert_many(items)


async def content(pg_url: str, mongo) -> dict:
    digest = {}
    for name in COLLECTIONS:
        h = hashlib.sha256()
        async for doc in mongo[name].find().sort("_id", 1):
            h.update(json_util.dumps(doc, json_options=json_util.CANONICAL_JSON_OPTIONS).encode())
        digest[name] = h.hexdigest()
    engine = create_engine(pg_url, "tests")
    async with create_sessionmaker(engine)() as session:
        digest["rejects"] = sorted((r.collection, r.legacy_id, r.reason) for r in (
            await session.execute(select(LegacyReject))).scalars())
        digest["progress"] = sorted(
            (p.step, p.counts["read"], p.counts["unresolved"], p.counts["conflicts"],
             p.finished_at is not None)
            for p in (await session.execute(select(LegacyProgress))).scalars())
    await engine.dispose()
    return digest


def start(pg_url: str, mongo_url: str, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, pg_url, mongo_url, name, str(BATCH), *EXTRA_REFS],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def run_to_end(pg_url: str, mongo_url: str, name: str) -> int:
    process = start(pg_url, mongo_url, name)
    out, err = await asyncio.to_thread(process.communicate, timeout=120)
    assert process.returncode == 0, err
    return out.count("batch")


async def kill_after(pg_url: str, mongo_url: str, name: str, batches: int,
                     delay: float) -> bool:
    """Kill -9 once `batches` batches were reported; False if it finished first."""
    process = start(pg_url, mongo_url, name)
    seen = 0
    try:
        while seen < batches:
            line = await asyncio.to_thread(process.stdout.readline)
            if not line or line.startswith("done"):
                return False
            seen += line.startswith("batch")
        await asyncio.sleep(delay)  # somewhere inside the next batch
        process.send_signal(signal.SIGKILL)
        return True
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.fixture
async def two_databases(server_urls, mongo_client):
    async with AsyncExitStack() as stack:
        urls = [await stack.enter_async_context(migrated_database(f"panamia_refs_crash_{i}"))
                for i in range(2)]
        mongo_names = [f"crash_{uuid.uuid4().hex[:10]}" for _ in urls]
        yield list(zip(urls, mongo_names))
        for name in mongo_names:
            await mongo_client.drop_database(name)


async def test_killed_runs_converge_to_an_uninterrupted_run(two_databases, server_urls,
                                                            mongo_client):
    seed_value = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed_value)
    users, app_users, docs = legacy_data(rng)
    (clean_pg, clean_mongo), (crash_pg, crash_mongo) = two_databases
    for pg_url, name in two_databases:
        await seed(pg_url, mongo_client[name], users, app_users, docs)

    batches = await run_to_end(clean_pg, server_urls[1], clean_mongo)
    kills = 0
    for _ in range(4):  # each killed run resumes where the one before it stopped
        kills += await kill_after(crash_pg, server_urls[1], crash_mongo,
                                  rng.randint(1, max(1, batches // 5)), rng.random() / 20)
    await run_to_end(crash_pg, server_urls[1], crash_mongo)

    assert kills >= 3, f"seed {seed_value}: the runs finished before they could be killed"
    clean = await content(clean_pg, mongo_client[clean_mongo])
    crashed = await content(crash_pg, mongo_client[crash_mongo])
    assert crashed == clean, f"seed {seed_value}"
    assert clean["rejects"], "the data should hold unresolved references"
    assert any(s == "refs:notifications.actor" for s, *_ in clean["progress"])
