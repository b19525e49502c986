"""Idempotent creation through the kit, for an operation of no sidecar in particular."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from panamia import purge
from panamia.errors import Conflict, Invalid
from panamia.schema import deploy
from panamia.sidecar.idempotency import KEEP_FOR, Answer, Key, claim, kept
from tests.fixtures.database import empty_database
from tests.identity.factories import create_user
from tests.schema.factories import query

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
SCOPE = "kit.things"
BEFORE_SCOPES = "20261206052523_index_sessions_by_creation"


def key_of(user_id: str, *, scope: str = SCOPE, key: str = "k1", body: str = "a") -> Key:
    return Key(user_id, scope, key, request_hash=f"hash of {body}")


async def create_thing(session, name: str) -> Answer:
    await session.execute(text("INSERT INTO things VALUES (:name)"), {"name": name})
    if name == "taken":
        raise Conflict("That name is taken.")
    return Answer(201, {"name": name})


async def run(db, key: Key | None, name: str, now: datetime = NOW) -> Answer:
    """The shape of a use case opting in: claim first, then the attempt, in one transaction."""
    async with db.begin() as session:
        if key and (stored := await claim(session, key, now)):
            return stored
        return await kept(session, key, lambda: create_thing(session, name))


async def things(db) -> list[str]:
    async with db.begin() as session:
        return list((await session.execute(text("SELECT name FROM things"))).scalars())


@pytest.fixture
async def db(resources, connection):
    await connection.execute(text("CREATE TABLE things (name text)"))
    return resources.db


@pytest.fixture
async def user(resources) -> str:
    return await create_user(resources)


class TestReplay:
    async def test_same_key_and_body_get_the_first_answer_and_change_nothing(self, db, user):
        first = await run(db, key_of(user), "kettle")
        again = await run(db, key_of(user), "kettle")

        assert (first.status, first.body, first.replayed) == (201, {"name": "kettle"}, False)
        assert (again.status, again.body, again.replayed) == (201, {"name": "kettle"}, True)
        assert await things(db) == ["kettle"]

    async def test_a_conflict_is_kept_and_what_it_did_rolled_back(self, db, user):
        refused = await run(db, key_of(user), "taken")
        again = await run(db, key_of(user), "taken")

        assert (refused.status, refused.body["detail"]) == (409, "That name is taken.")
        assert (again.status, again.replayed) == (409, True)
        assert await things(db) == []

    async def test_same_key_with_another_body_is_422(self, db, user):
        await run(db, key_of(user), "kettle")
        with pytest.raises(Invalid, match="already used with a different request"):
            await run(db, key_of(user, body="b"), "pot")

    async def test_a_key_belongs_to_its_user_and_its_operation(self, db, user, resources):
        other = await create_user(resources)
        await run(db, key_of(user), "kettle")

        assert not (await run(db, key_of(other), "pot")).replayed
        assert not (await run(db, key_of(user, scope="kit.other"), "pan")).replayed
        assert await things(db) == ["kettle", "pot", "pan"]

    async def test_without_a_key_nothing_is_kept(self, db):
        await run(db, None, "kettle")
        with pytest.raises(Conflict):
            await run(db, None, "taken")
        assert await things(db) == ["kettle"]


class TestExpiry:
    async def test_a_key_lives_24_hours_then_is_new_again_and_purged(self, db, user,
                                                                     resources):
        await run(db, key_of(user), "kettle")
        later = NOW + KEEP_FOR

        assert not (await run(db, key_of(user, body="b"), "pot", later)).replayed
        deleted = await purge.purge(db, resources.settings, later + KEEP_FOR)
        assert deleted["expired idempotency keys"] == 1


async def test_a_key_in_flight_is_409_at_once(committed):
    user = await create_user(committed)
    key = key_of(user, key=uuid.uuid4().hex)
    async with committed.db.begin() as first:
        assert await claim(first, key, NOW) is None
        async with committed.db.begin() as second:
            with pytest.raises(Conflict, match="still being processed"):
                await claim(second, key, NOW)
        await first.rollback()


async def test_keys_kept_before_scopes_were_pet_bookings_keys(server_urls):
    async with empty_database("panamia_scopes") as url:
        await asyncio.to_thread(deploy.upgrade, url, BEFORE_SCOPES)
        for statement in ("INSERT INTO users (id, email) VALUES ('u1', 'u1@example.org')",
                          "INSERT INTO idempotency_keys (user_id, key, request_hash) "
                          "VALUES ('u1', 'k1', 'h')"):
            await asyncio.to_thread(query, url, statement)

        await asyncio.to_thread(deploy.upgrade, url)

        kept_keys = await asyncio.to_thread(
            query, url, "SELECT user_id, scope, key FROM idempotency_keys")
        assert kept_keys == [("u1", "pets.bookings", "k1")]
