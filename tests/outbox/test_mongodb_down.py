"""MongoDB stops: PostgreSQL-side changes still commit, nothing is half-written, events wait
with their error, and the relay catches up exactly once when the server is back."""

import asyncio
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from sqlalchemy import select

from panamia.apps import main
from panamia.db.embedded import EmbeddedMongo
from panamia.outbox import relay
from panamia.outbox.models import OutboxEvent
from panamia.sidecar.registry import ensure_indexes
from tests.fixtures.http import asgi_client
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.notifications.factories import like, notify


def halt(server: EmbeddedMongo) -> None:
    """Stop with SIGINT, which SecantusDB honours at once (EmbeddedMongo.stop's SIGTERM
    waits ten seconds before killing it)."""
    if server.process and server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        server.process.wait(10)
    server.stop()


@pytest.fixture
def mongo_server(tmp_path):
    server = EmbeddedMongo(tmp_path)
    server.start(preferred_port=None)
    yield server
    halt(server)


async def test_the_relay_catches_up_when_mongodb_is_back(
    settings, resources, connection, mongo_server
):
    client = AsyncMongoClient(mongo_server.url, tz_aware=True, serverSelectionTimeoutMS=1000)
    own = replace(resources, mongo=client[settings.mongodb_db])
    await ensure_indexes(own.mongo)
    ana, ben = await create_user(own), await create_user(own)
    await own.mongo.profiles.insert_many([{"userId": ana}, {"userId": ben}])
    port = mongo_server.port

    await asyncio.to_thread(halt, mongo_server)

    to_ben = [await notify(own, like(ben, ana, id=f"a{i}")) for i in range(2)]
    to_ana = await notify(own, like(ana, ben))
    async with asgi_client(main.create_app(settings, own)) as http:
        await sign_in_as(http, own, ana)
        assert (await http.get("/api/notifications")).status_code == 503
        deleted = await http.delete("/api/account", headers=await csrf_headers(http))
        assert deleted.status_code == 204
    t0 = datetime.now(UTC)
    result = await relay.relay_once(own, now=t0)
    assert (result.claimed, result.delivered, result.failed) == (4, 0, 4)
    rows = (await connection.execute(select(OutboxEvent))).all()
    assert {(r.attempts, r.delivered_at, r.next_attempt_at) for r in rows} == {
        (1, None, t0 + timedelta(seconds=2))}
    errors = sorted(r.last_error for r in rows)
    assert errors[0].startswith("ServerSelectionTimeoutError")
    assert all(e.startswith("not tried, MongoDB unreachable") for e in errors[1:])

    await asyncio.to_thread(mongo_server.start, port)
    assert mongo_server.port == port
    assert (await relay.relay_once(own, now=t0 + timedelta(seconds=1))).claimed == 0
    result = await relay.relay_once(own, now=t0 + timedelta(seconds=2))
    assert (result.delivered, result.failed) == (4, 0)
    assert (await relay.relay_once(own, now=t0 + timedelta(hours=1))).claimed == 0

    notifications = await own.mongo.notifications.find().to_list()
    assert sorted(n["_id"] for n in notifications) == sorted(to_ben)
    assert to_ana not in {n["_id"] for n in notifications}
    assert [p["userId"] for p in await own.mongo.profiles.find().to_list()] == [ben]
    await client.close()
