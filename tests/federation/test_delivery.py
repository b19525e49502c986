"""Outgoing deliveries: a remote inbox that hangs or fails does not hold up the others; its
retry is scheduled with backoff; a 4xx is final and a 410 marks the actor gone."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from panamia.federation import delivery, keys, signatures
from panamia.federation.models import Delivery, RemoteActor
from panamia.outbox import service as outbox_service
from panamia.resources import Resources
from tests.fixtures.database import migrated_database

SIGNER = "signer0000000000000000001"


class Inbox:
    """A real local HTTP server answering POSTs with `status`, or never (`hang`)."""

    def __init__(self, status: int = 202, hang: bool = False):
        self.status, self.hang = status, hang
        self.received: list[tuple[dict, bytes]] = []
        self.arrived = asyncio.Event()

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]
                                                         if line)}
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        self.received.append((headers, body))
        self.arrived.set()
        if self.hang:
            await asyncio.sleep(3600)
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/inbox"
        return self

    async def __aexit__(self, *exc):
        self.server.close()


@pytest.fixture
async def outgoing(settings, mongo_client):
    """Resources on a database of their own, whose transactions commit, allowed to deliver
    to loopback."""
    async with migrated_database("federation_delivery") as url:
        resources = Resources.open(settings.model_copy(update={
            "postgres_url": url, "federation_allow_private_networks": True}), "tests")
        async with resources.db.begin() as session:
            await keys.ensure_key(session, SIGNER, resources.settings.secret)
        yield resources
        await resources.close()


async def queue(resources: Resources, inboxes: list[str]) -> dict:
    activity = {"id": f"https://here.example/activities/{time.monotonic_ns()}",
                "type": "Create", "actor": f"http://testserver/ap/users/{SIGNER}"}
    async with resources.db.begin() as session:
        await delivery.enqueue(session, activity, SIGNER, inboxes)
    return activity


async def rows(resources: Resources) -> dict[str, Delivery]:
    async with resources.reads() as session:
        found = (await session.execute(select(Delivery))).scalars().all()
    return {row.inbox: row for row in found}


async def test_a_hanging_or_failing_inbox_does_not_block_another(outgoing):
    async with Inbox(hang=True) as hanging, Inbox(500) as failing, Inbox(202) as good:
        activity = await queue(outgoing, [hanging.url, failing.url, good.url])
        started = time.monotonic()
        round_ = asyncio.create_task(delivery.deliver_once(outgoing))
        await asyncio.wait_for(good.arrived.wait(), 5)
        assert time.monotonic() - started < 5  # not after the hanging one's timeout
        assert not round_.done()
        await round_

    headers, body = good.received[0]
    assert json.loads(body) == activity
    assert headers["digest"] == signatures.digest(body)  # the bytes sent are the bytes hashed
    assert 'keyId="http://testserver/ap/users/' in headers["signature"]

    found = await rows(outgoing)
    assert found[good.url].state == "delivered"
    for url in (hanging.url, failing.url):
        retry = found[url]
        assert retry.state == "pending" and retry.attempts == 1
        wait = retry.next_attempt_at - datetime.now(UTC)
        assert timedelta(seconds=10) < wait <= delivery.BACKOFF_BASE
    assert found[failing.url].last_status == 500
    assert "too long" in found[hanging.url].last_error


async def test_a_4xx_is_final_and_410_marks_the_actor_gone(outgoing):
    async with Inbox(403) as refusing, Inbox(410) as gone:
        async with outgoing.db.begin() as session:
            session.add(RemoteActor(uri="http://127.0.0.1/users/zoe", type="Person",
                                    inbox=gone.url, public_key_id="http://127.0.0.1/k",
                                    public_key_pem="-", preferred_username="zoe",
                                    domain="127.0.0.1"))
        await queue(outgoing, [refusing.url, gone.url])
        assert await delivery.deliver_once(outgoing) == 2
    found = await rows(outgoing)
    assert found[refusing.url].state == "failed"
    assert found[gone.url].state == "given_up"
    async with outgoing.reads() as session:
        gone_at = (await session.execute(select(RemoteActor.gone_at))).scalar_one()
    assert gone_at is not None
    assert await delivery.deliver_once(outgoing) == 0  # nothing is retried
    async with outgoing.reads() as session:
        reported = (await outbox_service.backlog(session)).others["federation deliveries"]
    assert (reported["pending"], reported["failed"], reported["given_up"]) == (0, 1, 1)
    assert reported["by domain"] == {refusing.url.split("/")[2]: {"failed": 1},
                                     gone.url.split("/")[2]: {"given_up": 1}}


def test_backoff_grows_and_is_capped():
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert delivery.backoff(40) == delivery.BACKOFF_CAP
