"""The platform as docs/deploy.md runs it: nginx with TLS before two replicas of main and of
pets (two workers each), PgBouncer in transaction mode before PostgreSQL, and `panamia work`
relaying the outbox. Every request goes through nginx by name (main.panamia.test,
pets.panamia.test) unless it tests one replica.
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from panamia.db.postgres import create_engine

from tests.fixtures.http import signed_in_cookies
from tests.fixtures.topology import DOMAIN, Topology
from tests.identity.factories import HTML, create_user, magic_link, press_sign_in, request_link
from tests.pets.bookings.factories import FIRST_NIGHT, body
from tests.pets.factories import create_listing
from tests.test_serve import wait_for_mail

LISTINGS, OWNERS, WINDOW, LONGEST = 3, 8, 30, 6
BAD_GATEWAY = 502  # nginx's answer for a request whose replica died under it
CUT = "cut"  # ... or a cut answer, when the replica died after nginx had passed its status on


def random_requests(count: int, seed: int) -> list[tuple[int, int, int, int]]:
    """(listing, first night after FIRST_NIGHT, nights, owner) for each request."""
    pick = random.Random(seed)
    return [(pick.randrange(LISTINGS), pick.randrange(WINDOW), pick.randint(1, LONGEST),
             pick.randrange(OWNERS)) for _ in range(count)]


async def crowd(resources) -> tuple[list[str], list[dict]]:
    """Listings of their own and signed-in owners: (listing ids, each owner's headers)."""
    listings = [(await create_listing(resources)).id for _ in range(LISTINGS)]
    owners = []
    for _ in range(OWNERS):
        cookies, headers = await signed_in_cookies(resources, await create_user(resources))
        owners.append({**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    return listings, owners


async def answer_or_cut(call) -> httpx.Response | None:
    try:
        return await call
    except httpx.RemoteProtocolError:
        return None


def booking_call(client, listings, owners, request, key: str):
    listing, offset, nights, owner = request
    return client.post("/bookings", headers={**owners[owner], "Idempotency-Key": key},
                       json=body(listings[listing], FIRST_NIGHT + timedelta(days=offset), nights))


OVERLAPPING_ACTIVE = text("""
    SELECT count(*) FROM bookings a JOIN bookings b
      ON a.listing_id = b.listing_id AND a.id < b.id
     AND daterange(a.start_date, a.end_date) && daterange(b.start_date, b.end_date)
     WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
       AND a.listing_id = ANY(:listings)
""")
BOOKINGS = text("SELECT id FROM bookings WHERE listing_id = ANY(:listings)")
# A booking request's notice names it; a booking without one was half written.
WITHOUT_NOTICE = text("""
    SELECT count(*) FROM bookings b WHERE b.listing_id = ANY(:listings) AND NOT EXISTS (
        SELECT 1 FROM outbox o WHERE o.payload -> 'object' ->> 'id' = b.id)
""")
NOTICES = text("""
    SELECT o.id, o.delivered_at IS NOT NULL FROM outbox o JOIN bookings b
        ON o.payload -> 'object' ->> 'id' = b.id WHERE b.listing_id = ANY(:listings)
""")


async def assert_whole(resources, listings: list[str], created: int) -> None:
    """No two active bookings share a night, one booking per 201, each with its notice."""
    async with resources.reads() as db:
        assert (await db.execute(OVERLAPPING_ACTIVE, {"listings": listings})).scalar_one() == 0
        booked = (await db.execute(BOOKINGS, {"listings": listings})).scalars().all()
        assert len(booked) == created
        assert (await db.execute(WITHOUT_NOTICE, {"listings": listings})).scalar_one() == 0


async def notices(resources, listings: list[str]) -> dict[str, bool]:
    async with resources.reads() as db:
        return dict((await db.execute(NOTICES, {"listings": listings})).all())


async def wait_until_relayed(resources, listings: list[str], timeout: float = 30) -> set[str]:
    """The ids of the listings' notices, once every one is delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = await notices(resources, listings)
        if events and all(events.values()):
            return set(events)
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all relayed within {timeout}s: {events}")


async def notifications_of(resources, event_ids: set[str]) -> list[str]:
    cursor = resources.mongo["notifications"].find({"_id": {"$in": list(event_ids)}}, {"_id": 1})
    return [document["_id"] async for document in cursor]


async def failed_statements(url: str, rounds: int = 5, at_once: int = 60) -> int:
    """Two processes' worth of engines sending statements at once, half of them in
    autocommit (as `Resources.reads` does), half in transactions; how many failed."""
    engines = [create_engine(url, "tests", pool_size=10, max_overflow=0) for _ in range(2)]
    failed = 0

    async def one(i: int) -> None:
        nonlocal failed
        engine = engines[i % 2]
        if i % 4 < 2:
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with engine.begin() as db:
                assert (await db.execute(text("SELECT CAST(:i AS int)"), {"i": i})).scalar() == i
        except DBAPIError:
            failed += 1

    try:
        for _ in range(rounds):
            await asyncio.gather(*(one(i) for i in range(at_once)))
    finally:
        for engine in engines:
            await engine.dispose()
    return failed


class TestStatementsThroughPgBouncer:
    async def test_pgbouncer_true_keeps_every_statement_working_in_transaction_mode(
        self, topology_stack
    ):
        pooled = topology_stack.env["POSTGRES_URL"]
        assert await failed_statements(pooled) == 0
        # Cached, named statements meet server connections that lack or already hold them.
        assert await failed_statements(pooled.replace("pgbouncer=true", "pgbouncer=false")) > 0


class TestDeployAroundThePooler:
    def test_db_deploy_with_the_services_environment_goes_to_the_direct_url(self, topology_stack):
        """POSTGRES_URL says pgbouncer=true, which `panamia db deploy` refuses (see
        tests/schema/test_deploy.py); POSTGRES_DIRECT_URL beside it takes it around PgBouncer."""
        deployed = subprocess.run([sys.executable, "-m", "panamia", "db", "deploy"],
                                  env=topology_stack.env, cwd=topology_stack.scratch,
                                  capture_output=True, text=True, timeout=120)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr


class TestSignInThroughTheProxy:
    async def test_a_mailed_link_signs_in_on_main_and_the_session_holds_on_pets(
        self, topology_stack: Topology, mailbox
    ):
        address = f"topology-{uuid.uuid4().hex[:8]}@example.org"
        async with topology_stack.client("main") as http:
            asked = await request_link(http, address)
            assert asked.status_code == 200, asked.text
            assert "max-age" in asked.headers["strict-transport-security"]
            link = magic_link(await wait_for_mail(mailbox, address))
            assert link.startswith(f"{topology_stack.url('main')}/api/auth/callback/email?")
            signed_in = await press_sign_in(http, link)
            assert signed_in.status_code == 303, signed_in.text
            cookie = next(c for c in http.cookies.jar if c.name.endswith("session-token"))
            assert (cookie.name, cookie.domain, cookie.secure) == (
                "__Secure-authjs.session-token", f".{DOMAIN}", True)
            session = (await http.get("/api/auth/session")).json()
            assert session["user"]["email"] == address
            account = await http.get("/account", headers=HTML)
            assert account.status_code == 200 and address in account.text

            pets = topology_stack.url("pets")
            mine = await http.get(f"{pets}/bookings")
            page = await http.get(f"{pets}/bookings", headers=HTML)
            async with topology_stack.client("pets") as stranger:
                refused = await stranger.get("/bookings")
        assert mine.status_code == 200, mine.text
        assert mine.json()["items"] == []
        assert page.status_code == 200
        assert f'action="{topology_stack.url("main")}/signout"' in page.text
        assert refused.status_code == 401


class TestBookingStormThroughTheProxyAndPooler:
    async def test_every_request_is_booked_or_refused_and_every_notice_relayed_once(
        self, topology_stack, topology_resources
    ):
        listings, owners = await crowd(topology_resources)
        requests = random_requests(60, seed=1)
        async with topology_stack.client("pets") as http:
            answers = await asyncio.gather(*(
                booking_call(http, listings, owners, r, uuid.uuid4().hex) for r in requests))

        codes = Counter(a.status_code for a in answers)
        assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
        assert codes[201] >= LISTINGS
        await assert_whole(topology_resources, listings, codes[201])
        relayed = await wait_until_relayed(topology_resources, listings)
        assert len(relayed) == codes[201]
        assert sorted(await notifications_of(topology_resources, relayed)) == sorted(relayed)


class TestTheWorkProcess:
    async def test_sigterm_stops_it_cleanly(self, topology_stack):
        try:
            [status] = topology_stack.stop("work")
            logged = topology_stack.log("work")
            assert status == 0, logged
            assert "stopped" in logged and "Traceback" not in logged
        finally:
            topology_stack.start("work", "work")

    async def test_killed_and_started_again_it_delivers_each_waiting_event_once(
        self, topology_stack, topology_resources
    ):
        listings, owners = await crowd(topology_resources)
        topology_stack.kill("work")
        try:
            async with topology_stack.client("pets") as http:
                answers = [await booking_call(http, listings, owners, (i, 3 * i, 2, i), str(i))
                           for i in range(LISTINGS)]
            assert [a.status_code for a in answers] == [201] * LISTINGS
            await asyncio.sleep(2)  # services run without background work: nothing relays
            assert list((await notices(topology_resources, listings)).values()) == (
                [False] * LISTINGS)
        finally:
            topology_stack.start("work", "work")
        relayed = await wait_until_relayed(topology_resources, listings)
        assert sorted(await notifications_of(topology_resources, relayed)) == sorted(relayed)


class TestAReplicaKilledMidStorm:
    async def test_its_requests_fail_cleanly_retries_take_once_and_the_other_carries_on(
        self, topology_stack, topology_resources
    ):
        topology_stack.ready("pets-1")  # the replica that carries on
        listings, owners = await crowd(topology_resources)
        requests = random_requests(80, seed=2)
        keys = [uuid.uuid4().hex for _ in requests]
        try:
            async with topology_stack.client("pets") as http:
                calls = [asyncio.ensure_future(answer_or_cut(booking_call(http, listings, owners,
                                                                          r, k)))
                         for r, k in zip(requests, keys)]
                while not any(call.done() for call in calls):
                    await asyncio.sleep(0.01)
                # Stalled, then dead: the requests nginx handed it meanwhile are in flight.
                topology_stack.freeze("pets-0")
                await asyncio.sleep(0.5)
                topology_stack.kill("pets-0")
                answers = await asyncio.gather(*calls)
                codes = Counter(a.status_code if a else CUT for a in answers)
                assert set(codes) <= {201, 409, BAD_GATEWAY, CUT}, codes
                assert codes[BAD_GATEWAY] + codes[CUT] >= 1, codes
                # The same request with the same key again: taken at most once.
                final = list(answers)
                for index, answer in enumerate(answers):
                    if answer is None or answer.status_code == BAD_GATEWAY:
                        final[index] = await booking_call(http, listings, owners,
                                                          requests[index], keys[index])
                after = await asyncio.gather(*(
                    booking_call(http, listings, owners, r, uuid.uuid4().hex)
                    for r in random_requests(10, seed=3)))
        finally:
            topology_stack.start_replicas("pets-0")

        assert {a.status_code for a in final} <= {201, 409}, [a.text for a in final]
        assert {a.status_code for a in after} <= {201, 409}
        booked = {a.json()["id"] for a in (*final, *after) if a.status_code == 201}
        await assert_whole(topology_resources, listings, len(booked))


class TestGracefulStop:
    async def test_a_request_in_flight_at_sigterm_completes_before_the_replica_exits(
        self, topology_stack, topology_resources
    ):
        topology_stack.ready("pets-1")
        listings, owners = await crowd(topology_resources)
        port = topology_stack.replicas["pets"][1]
        replica = topology_stack.processes.pop("pets-1")
        rest_of_body = asyncio.Event()
        payload = httpx.Request("POST", "/", json=body(listings[0], FIRST_NIGHT, 2)).content

        async def slow_body():
            yield payload[:10]
            await rest_of_body.wait()
            yield payload[10:]

        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                         limits=httpx.Limits(max_connections=1)) as http:
                # One connection, already taken by a worker: the booking is its second request.
                assert (await http.get("/health")).status_code == 200
                headers = {**owners[0], "Content-Type": "application/json",
                           "Content-Length": str(len(payload))}
                booking = asyncio.ensure_future(http.post("/bookings", headers=headers,
                                                          content=slow_body()))
                await asyncio.sleep(1.0)
                replica.send_signal(signal.SIGTERM)
                await asyncio.sleep(1.0)
                rest_of_body.set()
                answer = await booking
            exit_status = await asyncio.to_thread(replica.wait, 30)
        finally:
            if replica.poll() is None:
                os.killpg(replica.pid, signal.SIGKILL)
                replica.wait()
            topology_stack.start_replicas("pets-1")
        assert answer.status_code == 201, answer.text
        assert exit_status in (0, -signal.SIGTERM)
        await assert_whole(topology_resources, listings, 1)
