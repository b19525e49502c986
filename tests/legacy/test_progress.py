"""Checkpoints, the batch loop, and reading legacy collections in `_id` order."""

from collections.abc import AsyncIterator

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from panamia.legacy import progress
from panamia.legacy.models import LegacyReject
from panamia.legacy.sources import Stream, legacy_key


class Boom(Exception):
    pass


def counting_batch(total: int, fail_at: set[int] = frozenset()):
    """A step over records 1..total, one per batch, each writing one row."""

    async def batch(session, cp: progress.Checkpoint) -> int:
        done = int(cp.cursor or 0)
        if done == total:
            return 0
        await session.execute(insert(LegacyReject).values(
            id=f"r{done + 1}", collection="test", legacy_id=str(done + 1), reason="x",
            document={}))
        if done + 1 in fail_at:
            fail_at.discard(done + 1)
            raise Boom
        cp.cursor = str(done + 1)
        cp.count("rejected")
        return 1

    return batch


async def rows(connection) -> list[str]:
    return list((await connection.execute(
        select(LegacyReject.legacy_id).where(LegacyReject.collection == "test")
        .order_by(LegacyReject.legacy_id))).scalars())


class TestCheckpoints:
    async def test_a_step_never_run_has_an_empty_checkpoint(self, resources):
        async with resources.db() as session:
            cp = await progress.load(session, "test.nothing")
        assert (cp.cursor, cp.counts, cp.finished_at, cp.read) == (None, {}, None, 0)

    async def test_save_and_load_round_trip(self, resources):
        async with resources.db.begin() as session:
            cp = await progress.load(session, "test.a", lock=True)
            cp.cursor = "c1"
            cp.count("read", 3)
            cp.count_in("reasons", "why", 2)
            await progress.save(session, cp)
        async with resources.db() as session:
            again = await progress.load(session, "test.a")
            listed = await progress.load_all(session, "test.")
        assert (again.cursor, again.counts) == ("c1", {"read": 3, "reasons": {"why": 2}})
        assert [c.step for c in listed] == ["test.a"]


class TestRunStep:
    async def test_batches_commit_with_their_checkpoint_until_one_reads_nothing(
            self, resources, connection):
        ticks = []

        class Ticker:
            def start(self, step, total, done):
                ticks.append(("start", total, done))

            def advance(self, step, n):
                ticks.append(("advance", n))

        cp = await progress.run_step(resources.db, "test.count", counting_batch(3), total=3,
                                     ticker=Ticker())
        assert (cp.cursor, cp.read, cp.counts["rejected"]) == ("3", 3, 3)
        assert cp.finished_at is not None
        assert ticks == [("start", 3, 0), ("advance", 1), ("advance", 1), ("advance", 1),
                         ("advance", 0)]
        assert await rows(connection) == ["1", "2", "3"]

    async def test_a_failed_batch_leaves_nothing_and_a_rerun_resumes_after_the_last_commit(
            self, resources, connection):
        batch = counting_batch(4, fail_at={3})
        with pytest.raises(Boom):
            await progress.run_step(resources.db, "test.crash", batch)
        async with resources.db() as session:
            cp = await progress.load(session, "test.crash")
        assert (cp.cursor, cp.read, cp.finished_at) == ("2", 2, None)
        assert await rows(connection) == ["1", "2"]

        cp = await progress.run_step(resources.db, "test.crash", batch)
        assert (cp.cursor, cp.read) == ("4", 4)
        assert await rows(connection) == ["1", "2", "3", "4"]

    async def test_a_unique_violation_is_retried(self, resources):
        failures = [IntegrityError("INSERT", {}, Exception("23505"))]
        inner = counting_batch(2)

        async def batch(session, cp):
            if failures:
                raise failures.pop()
            return await inner(session, cp)

        cp = await progress.run_step(resources.db, "test.retry", batch)
        assert cp.read == 2


class Queries(monitoring.CommandListener):
    """The `find` commands a client sends (a batch read from an open cursor is a `getMore`)."""

    def __init__(self):
        self.finds = 0

    def started(self, event):
        self.finds += event.command_name == "find"

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
async def watched(server_urls, resources) -> AsyncIterator[tuple[AsyncCollection, Queries]]:
    """The legacy users collection through a client that counts its queries."""
    queries = Queries()
    client = AsyncMongoClient(server_urls[1], event_listeners=[queries])
    yield client[resources.settings.mongodb_db]["nextauth_users"], queries
    await client.close()


def ids(batch) -> list:
    return [doc["_id"] for doc, _ in batch]


class TestStream:
    async def test_every_id_type_is_read_once_in_id_order_and_later_ones_too(self, watched):
        source, queries = watched
        oids = [ObjectId() for _ in range(3)]
        await source.insert_many([{"_id": v} for v in
                                  ["b", oids[2], 7, "a", oids[0], {"x": 1}, oids[1], 2.5]])
        seen, cursor = [], None
        async with Stream(source, 3) as documents:
            while batch := await documents.batch(cursor, 3):
                seen += ids(batch)
                cursor = batch[-1][1]
        assert seen == [*oids, "a", "b", 2.5, 7, {"x": 1}]
        assert queries.finds == 3  # one per type of _id, not one per batch

        late = ObjectId()
        await source.insert_many([{"_id": late}, {"_id": "c"}])
        async with Stream(source, 3) as documents:
            assert ids(await documents.batch(cursor, 10)) == [late, "c"]

    async def test_a_retried_batch_gets_its_documents_again_without_a_query(self, watched):
        source, queries = watched
        oids = sorted(ObjectId() for _ in range(7))
        await source.insert_many([{"_id": v} for v in oids])
        async with Stream(source, 2) as documents:
            first = await documents.batch(None, 3)
            assert ids(await documents.batch(None, 3)) == ids(first) == oids[:3]
            assert ids(await documents.batch(first[-1][1], 3)) == oids[3:6]
            assert queries.finds == 1  # the ObjectIds' one query, still being read

    async def test_a_checkpoint_another_run_moved_is_read_after(self, watched):
        source, queries = watched
        oids = sorted(ObjectId() for _ in range(9))
        await source.insert_many([{"_id": v} for v in oids])
        async with Stream(source, 3) as mine, Stream(source, 3) as theirs:
            await mine.batch(None, 3)
            moved = (await theirs.batch(None, 5))[-1][1]  # they did five while we waited
            finds = queries.finds
            assert ids(await mine.batch(moved, 3)) == oids[5:8]
            assert queries.finds == finds + 1  # read again, after their place

    def test_an_objectid_and_its_text_are_one_key(self):
        oid = ObjectId()
        assert legacy_key(oid) == legacy_key(str(oid).upper()) == legacy_key(f" {oid} ")
        assert legacy_key("legacy-bo") == "legacy-bo"
        assert legacy_key(42) == "int:42" != legacy_key("42")

    def test_only_24_hex_digits_in_full_are_an_objectid_as_text(self):
        oid = str(ObjectId()).upper()
        assert legacy_key(f"{oid}\n") == oid.lower()  # trimmed first, like every string id
        for longer in (f"{oid}0", f"{oid}\nx", f"0{oid}"):
            assert legacy_key(longer) == longer  # another id, its case kept
