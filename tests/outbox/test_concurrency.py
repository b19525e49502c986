"""Relays in separate connections, committing for real, share the work without overlap."""

import asyncio
from collections import Counter

from sqlalchemy import func, select

from panamia.outbox import handlers, relay, service
from panamia.outbox.models import OutboxEvent
from panamia.resources import Resources

EVENTS = 60


async def test_two_relays_deliver_each_event_exactly_once(
    committed, committed_settings, monkeypatch
):
    handled: Counter[str] = Counter()
    by_relay: Counter[str] = Counter()

    async def count(event, mongo, session):
        handled[event.id] += 1
        await asyncio.sleep(0.005)  # let the other relay claim meanwhile
        await mongo.counted.update_one({"_id": event.id}, {"$inc": {"n": 1}}, upsert=True)

    monkeypatch.setitem(handlers.HANDLERS, "test.count", count)
    async with committed.db.begin() as db:
        ids = [await service.enqueue(db, "test.count", {"n": i}) for i in range(EVENTS)]

    async def worker(name: str) -> None:
        resources = Resources.open(committed_settings, f"relay-{name}")
        try:
            while (result := await relay.relay_once(resources, batch_size=5)).claimed:
                by_relay[name] += result.delivered
        finally:
            await resources.close()

    await asyncio.gather(worker("a"), worker("b"))

    assert handled == Counter({event_id: 1 for event_id in ids})
    assert by_relay["a"] > 0 and by_relay["b"] > 0
    assert by_relay["a"] + by_relay["b"] == EVENTS
    counts = {d["_id"]: d["n"] for d in await committed.mongo.counted.find().to_list()}
    assert counts == {event_id: 1 for event_id in ids}
    async with committed.reads() as db:
        undelivered = (await db.execute(
            select(func.count()).where(OutboxEvent.delivered_at.is_(None))
        )).scalar_one()
    assert undelivered == 0
