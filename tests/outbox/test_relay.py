from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from panamia.identity.account import delete_account
from panamia.notifications.documents import COLLECTION
from panamia.outbox import handlers, relay, service
from panamia.outbox.models import OutboxEvent
from tests.identity.factories import create_user
from tests.notifications.factories import like, notify


async def event_row(connection, event_id: str):
    return (await connection.execute(
        select(OutboxEvent).where(OutboxEvent.id == event_id)
    )).one()


async def enqueue(resources, topic: str, payload: dict) -> str:
    async with resources.db.begin() as db:
        return await service.enqueue(db, topic, payload)


class TestDelivery:
    async def test_a_committed_notification_reaches_mongodb(self, resources, connection):
        ana, ben = await create_user(resources), await create_user(resources)
        event_id = await notify(resources, like(ana, ben))

        result = await relay.relay_once(resources)

        assert (result.claimed, result.delivered, result.failed) == (1, 1, 0)
        document = await resources.mongo[COLLECTION].find_one({"_id": event_id})
        assert document["type"] == "Like"
        assert (document["targetId"], document["actorId"], document["read"]) == (ana, ben, False)
        assert document["object"]["type"] == "Article"
        row = await event_row(connection, event_id)
        assert row.delivered_at is not None and row.attempts == 0
        assert (await relay.relay_once(resources)).claimed == 0

    async def test_a_rolled_back_change_leaves_no_event(self, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        with pytest.raises(RuntimeError):
            async with resources.db.begin() as db:
                await service.enqueue(db, service.NOTIFICATION_CREATE,
                                      like(ana, ben).model_dump(mode="json", by_alias=True))
                raise RuntimeError("the change failed")
        assert (await relay.relay_once(resources)).claimed == 0
        assert await resources.mongo[COLLECTION].count_documents({}) == 0

    async def test_a_recipient_deleted_before_delivery_gets_nothing(self, resources, connection):
        ana, ben = await create_user(resources), await create_user(resources)
        event_id = await notify(resources, like(ana, ben))
        await delete_account(resources, ana)
        await relay.drain(resources)
        assert await resources.mongo[COLLECTION].count_documents({}) == 0
        assert (await event_row(connection, event_id)).delivered_at is not None


class TestReplay:
    async def test_relaying_an_event_again_changes_nothing(self, resources, connection):
        ana, ben = await create_user(resources), await create_user(resources)
        event_id = await notify(resources, like(ana, ben))
        await relay.relay_once(resources)
        await resources.mongo[COLLECTION].update_one({"_id": event_id}, {"$set": {"read": True}})
        before = await resources.mongo[COLLECTION].find_one({"_id": event_id})

        # As if the relay crashed after writing to MongoDB but before its commit.
        await connection.execute(
            update(OutboxEvent).where(OutboxEvent.id == event_id).values(delivered_at=None)
        )
        assert (await relay.relay_once(resources)).delivered == 1

        assert await resources.mongo[COLLECTION].count_documents({}) == 1
        assert await resources.mongo[COLLECTION].find_one({"_id": event_id}) == before


class TestBackoff:
    def test_the_wait_doubles_up_to_five_minutes(self):
        waits = [relay.backoff(n).total_seconds() for n in range(1, 11)]
        assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]

    async def test_a_failing_event_is_retried_later_with_its_error(
        self, resources, connection, monkeypatch
    ):
        calls = []

        async def flaky(event, mongo, session):
            calls.append(event.id)
            if len(calls) < 3:
                raise RuntimeError(f"boom {len(calls)}")

        monkeypatch.setitem(handlers.HANDLERS, "test.flaky", flaky)
        event_id = await enqueue(resources, "test.flaky", {})
        t0 = datetime.now(UTC)

        assert (await relay.relay_once(resources, now=t0)).failed == 1
        row = await event_row(connection, event_id)
        assert (row.attempts, row.last_error, row.delivered_at) == (1, "RuntimeError: boom 1", None)
        assert row.next_attempt_at == t0 + timedelta(seconds=2)

        assert (await relay.relay_once(resources, now=t0 + timedelta(seconds=1))).claimed == 0
        t1 = t0 + timedelta(seconds=2)
        assert (await relay.relay_once(resources, now=t1)).failed == 1
        row = await event_row(connection, event_id)
        assert (row.attempts, row.next_attempt_at) == (2, t1 + timedelta(seconds=4))

        t2 = t1 + timedelta(seconds=4)
        assert (await relay.relay_once(resources, now=t2)).delivered == 1
        row = await event_row(connection, event_id)
        assert (row.delivered_at, row.attempts, row.last_error) == (t2, 2, "RuntimeError: boom 2")
        assert calls == [event_id] * 3

    async def test_one_bad_event_does_not_hold_up_the_others(self, resources, connection):
        ana, ben = await create_user(resources), await create_user(resources)
        unknown = await enqueue(resources, "test.from_a_newer_version", {})
        good = await notify(resources, like(ana, ben))

        result = await relay.relay_once(resources)

        assert (result.delivered, result.failed) == (1, 1)
        assert await resources.mongo[COLLECTION].find_one({"_id": good})
        row = await event_row(connection, unknown)
        assert row.last_error == (
            "LookupError: no handler for topic 'test.from_a_newer_version' in this version"
        )
