"""`panamia serve main --workers 2` as an operator runs it, with METRICS_TOKEN and
PANAMIA_LOG_FORMAT=json: one /metrics sums both workers, every log line is JSON with the
request's id, the id reaches the outbox row and the relay's line, and no token is logged."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from panamia.db.postgres import create_engine
from panamia.outbox.models import OutboxEvent
from tests.fixtures.database import migrated_database
from tests.fixtures.servers import free_port, wait_until_healthy
from tests.identity.factories import press_sign_in, request_link
from tests.observability.series import METRICS_TOKEN, samples, scrape, value
from tests.test_settings import CONFIG_NAMES

SECRET = "observed-secret-" + "s" * 40
BURST, MOST_BURSTS = 10, 30
REQUESTS = "panamia_http_requests_total"
PYTHON_WARNING = re.compile(r"\S+\.py:\d+: \w*Warning: |  ")


@pytest.fixture(scope="module")
async def observed_database_url() -> AsyncIterator[str]:
    async with migrated_database("panamia_observed") as url:
        yield url


@pytest.fixture
async def served(tmp_path, observed_database_url, server_urls, smtp_server):
    """The served main app on two workers; yields (base_url, metrics_dir, stop), stop()
    returning the log's lines."""
    port = free_port()
    metrics_dir = tmp_path / "data" / "metrics" / f"main-{port}"
    metrics_dir.mkdir(parents=True)
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    output = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(CONFIG_NAMES) and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        PANAMIA_ENV="test", PANAMIA_DATA_DIR=str(tmp_path / "data"),
        AUTH_URL=f"http://127.0.0.1:{port}", AUTH_SECRET=SECRET,
        POSTGRES_URL=observed_database_url, MONGODB_URL=server_urls[1],
        MONGODB_DB=f"observed_{uuid.uuid4().hex[:12]}",
        SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}",
        METRICS_TOKEN=METRICS_TOKEN, PANAMIA_LOG_FORMAT="json",
    )
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "panamia", "serve", "main", "--port", str(port),
             "--workers", "2"],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, port, output)

        def stop() -> list[str]:
            process.send_signal(signal.SIGTERM)
            process.wait(40)
            return output.read_text().splitlines()

        yield f"http://127.0.0.1:{port}", metrics_dir, stop
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def wait_for_mail(mailbox, address: str):
    for _ in range(200):
        if messages := mailbox.to(address):
            return messages[-1]
        await asyncio.sleep(0.05)
    pytest.fail(f"no mail reached {address}")


async def delivered_event(database_url: str, user_id: str) -> OutboxEvent:
    """The `user.deleted` event of `user_id`, once the served relay has delivered it."""
    engine = create_engine(database_url, "tests")
    try:
        for _ in range(200):
            async with engine.connect() as conn:
                row = (await conn.execute(select(OutboxEvent).where(
                    OutboxEvent.topic == "user.deleted",
                    OutboxEvent.payload["userId"].astext == user_id,
                ))).first()
            if row is not None and row.delivered_at is not None:
                return row
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    pytest.fail("the served relay did not deliver the user.deleted event")


def lookup_processes(log: Path) -> set[str]:
    lines = (json.loads(line) for line in log.read_text().splitlines()
             if line.startswith("{") and line.endswith("}"))  # not one being written
    return {str(r["process"]) for r in lines
            if r["logger"] == "uvicorn.access" and r["path"].startswith("/api/profiles/")}


async def look_up_profiles(base_url: str, log: Path) -> int:
    """Each on a connection of its own, several at once, until both workers have answered
    some (the kernel hands a connection to whichever worker accepts first); how many."""

    async def one() -> int:
        async with httpx.AsyncClient(base_url=base_url) as http:
            return (await http.get(f"/api/profiles/nobody-{uuid.uuid4().hex[:8]}")).status_code

    for burst in range(1, MOST_BURSTS + 1):
        assert await asyncio.gather(*(one() for _ in range(BURST))) == [404] * BURST
        if len(lookup_processes(log)) == 2:
            return burst * BURST
    pytest.fail(f"one worker answered all {MOST_BURSTS * BURST} lookups")


class TestTwoWorkers:
    async def test_one_scrape_sums_both_workers_and_the_logs_follow_each_request(
        self, served, mailbox, observed_database_url
    ):
        base_url, metrics_dir, stop = served
        address = f"observed-{uuid.uuid4().hex[:8]}@example.org"
        assert not (metrics_dir / "counter_1.db").exists()  # wiped before the workers began

        async with httpx.AsyncClient(base_url=base_url) as http:
            assert (await http.get("/metrics")).status_code == 404
            asked = await request_link(http, address)
            assert asked.status_code == 200, asked.text
            link = (await wait_for_mail(mailbox, address)).get_content()
            link = re.search(r"http://\S+", link).group(0)
            token = parse_qs(urlsplit(link).query)["token"][0]
            assert (await press_sign_in(http, link)).status_code == 303
            cookie = http.cookies["authjs.session-token"]
            user_id = (await http.get("/api/auth/session")).json()["user"]["id"]
            csrf = (await http.get("/api/auth/csrf")).json()["csrfToken"]
            deleted = await http.delete("/api/account", headers={
                "X-CSRF-Token": csrf, "X-Request-ID": "delete-account-1"})
            assert deleted.status_code == 204, deleted.text
            assert deleted.headers["x-request-id"] == "delete-account-1"
            unsafe = await http.get("/health", headers={"X-Request-ID": "x" * 65})
            assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["x-request-id"])

        event = await delivered_event(observed_database_url, user_id)
        assert event.request_id == "delete-account-1"

        lookups_made = await look_up_profiles(base_url, metrics_dir.parents[2] / "serve.log")
        scrapes = []
        async with httpx.AsyncClient(base_url=base_url) as http:
            for _ in range(6):  # on fresh connections: either worker may answer each
                http.headers["Connection"] = "close"
                scrapes.append(await scrape(http))
        lines = stop()

        route = {"route": "/api/profiles/{screenname}", "method": "GET", "status": "404"}
        assert [value(s, REQUESTS, **route) for s in scrapes] == [lookups_made] * 6
        pids = {s.labels["pid"] for s in samples(scrapes[-1], "panamia_db_pool_in_use")}
        assert len(pids) == 2
        assert value(scrapes[-1], REQUESTS, route="/api/account", method="DELETE",
                     status="204") == 1
        assert value(scrapes[-1], "panamia_signin_mails_sent_total") == 1
        assert value(scrapes[-1], "panamia_outbox_delivered_total", topic="user.deleted") == 1

        records = [json.loads(line) for line in lines if line.startswith("{")]
        # Python writes a warning raised on import itself (authlib forces its own to show).
        assert all(PYTHON_WARNING.match(line) for line in lines if not line.startswith("{"))
        access = [r for r in records if r["logger"] == "uvicorn.access"]
        lookups = [r for r in access if r["path"].startswith("/api/profiles/")]
        assert len(lookups) == lookups_made
        assert {str(r["process"]) for r in lookups} == pids  # both workers answered some
        assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in lookups)
        assert len({r["request_id"] for r in lookups}) == lookups_made

        deletion = [r for r in access if r["path"] == "/api/account"]
        assert [(r["method"], r["status"], r["request_id"]) for r in deletion] \
            == [("DELETE", 204, "delete-account-1")]
        relayed = [r for r in records if r["logger"] == "panamia.outbox.relay"
                   and "delivered" in r["message"] and event.id in r["message"]]
        assert [r["request_id"] for r in relayed] == ["delete-account-1"]
        callback = [r for r in access if r["path"].startswith("/api/auth/callback/email?")]
        assert callback and all("token=[redacted]" in r["path"] for r in callback)

        logged = "\n".join(lines)
        assert token not in logged and cookie not in logged
        assert not list(Path(metrics_dir).glob("gauge_live*"))  # each worker's, dropped at exit
