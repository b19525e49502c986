"""`panamia serve main` as an operator runs it: a real process, real HTTP, real SMTP, its logs."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from panamia.identity.tokens import session_token_hash, verification_token_hash
from tests.fixtures.database import migrated_database
from tests.fixtures.servers import free_port, wait_until_healthy
from tests.identity.factories import press_sign_in, request_link
from tests.test_settings import CONFIG_NAMES

SECRET = "serve-test-secret-" + "s" * 40


@pytest.fixture(scope="module")
async def serve_database_url() -> AsyncIterator[str]:
    """A migrated database of its own: the served process commits for real."""
    async with migrated_database("panamia_serve") as url:
        yield url


@contextmanager
def serve_main(tmp_path: Path, **config: str):
    """`panamia serve main` in its own process with only `config` (no PANAMIA_ENV unless given)
    and this run's databases; yields (base_url, stop) where stop() returns its output."""
    port = free_port()
    output = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_NAMES)}
    env.update(PANAMIA_DATA_DIR=str(tmp_path / "data"), AUTH_URL=f"http://127.0.0.1:{port}",
               **config)
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "panamia", "serve", "main", "--port", str(port)],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, port, output)

        def stop() -> str:
            process.send_signal(signal.SIGTERM)
            # Uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see it.
            assert process.wait(20) in (0, -signal.SIGTERM)
            logged = output.read_text()
            assert "Application shutdown complete" in logged
            return logged

        yield f"http://127.0.0.1:{port}", stop
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def databases(serve_database_url, server_urls) -> dict[str, str]:
    return {"POSTGRES_URL": serve_database_url, "MONGODB_URL": server_urls[1],
            "MONGODB_DB": f"serve_{uuid.uuid4().hex[:12]}", "AUTH_SECRET": SECRET}


@pytest.fixture
def served_main(tmp_path, databases, smtp_server):
    with serve_main(tmp_path, PANAMIA_ENV="test", **databases,
                    SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}") as served:
        yield served


async def wait_for_mail(mailbox, address: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if messages := mailbox.to(address):
            return messages[-1]
        await asyncio.sleep(0.05)
    pytest.fail(f"no mail reached {address} within {timeout}s")


def access_line(method: str, path: str, status: int) -> re.Pattern:
    """An access log line as uvicorn writes it, not a quote of the record inside an error."""
    return re.compile(rf'^INFO: +\S+ - "{method} {path} HTTP/1\.1" {status}\b', re.MULTILINE)


class TestLogsOfAServedMagicLinkSignIn:
    async def test_access_log_shows_the_requests_but_no_token_cookie_or_hash(
        self, served_main, mailbox
    ):
        base_url, stop = served_main
        address = f"log-{uuid.uuid4().hex[:8]}@example.org"
        async with httpx.AsyncClient(base_url=base_url) as http:
            csrf = (await http.get("/api/auth/csrf")).json()["csrfToken"]
            sent = await http.post("/api/auth/signin/email", json={"email": address},
                                   headers={"X-CSRF-Token": csrf})
            assert sent.status_code == 200, sent.text
            mail = await wait_for_mail(mailbox, address)
            link = re.search(r"http://\S+", mail.get_content()).group(0)
            token = parse_qs(urlsplit(link).query)["token"][0]
            opened = await press_sign_in(http, link)
            assert opened.status_code == 303, opened.text
            cookie = opened.cookies["authjs.session-token"]
            session = (await http.get("/api/auth/session")).json()
        assert session["user"]["email"] == address
        logged = stop()

        for secret in (token, cookie, verification_token_hash(token, SECRET),
                       session_token_hash(cookie, SECRET), csrf):
            assert secret not in logged
        for method, path, status in (
            ("GET", r"/api/auth/csrf", 200),
            ("POST", r"/api/auth/signin/email", 200),
            ("GET", r"/api/auth/callback/email\?\S*token=\[redacted\]\S*", 200),
            ("POST", r"/api/auth/callback/email", 303),
            ("GET", r"/api/auth/session", 200),
        ):
            assert access_line(method, path, status).search(logged), (method, path, logged)
        assert "Logging error" not in logged


BROWSER = {"Accept": "text/html"}


class TestServeIsProductionUnlessToldOtherwise:
    async def test_without_panamia_env_sign_in_mail_goes_out_and_there_is_no_outbox(
        self, tmp_path, databases, smtp_server, mailbox
    ):
        address = f"prod-{uuid.uuid4().hex[:8]}@example.org"
        with serve_main(tmp_path, **databases,
                        SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}") as (base_url, stop):
            async with httpx.AsyncClient(base_url=base_url) as http:
                assert (await request_link(http, address)).status_code == 200
                assert (await http.get("/api/dev/outbox")).status_code == 404
                assert (await http.get("/dev/outbox", headers=BROWSER)).status_code == 404
                signin = await http.get("/signin", headers=BROWSER)
            stop()
        assert "dev outbox" not in signin.text
        assert "/api/auth/callback/email?" in (await wait_for_mail(mailbox, address)).get_content()

    async def test_development_on_serve_opens_no_outbox_and_says_mail_cannot_go(
        self, tmp_path, databases
    ):
        """PANAMIA_ENV=development without SMTP_URL used to list everyone's sign-in links."""
        with serve_main(tmp_path, PANAMIA_ENV="development", **databases) as (base_url, stop):
            async with httpx.AsyncClient(base_url=base_url) as http:
                asked = await request_link(http, "someone@example.org")
                assert (await http.get("/api/dev/outbox")).status_code == 404
                assert (await http.get("/dev/outbox", headers=BROWSER)).status_code == 404
            logged = stop()
        assert asked.status_code == 503 and asked.json()["error"] == "mail unavailable"
        assert "SMTP_URL is not set" in logged


class TestForwardedClientAddresses:
    """Behind nginx every request comes from the proxy; the client is in X-Forwarded-For."""

    FIRST, SECOND = "203.0.113.7", "203.0.113.8"

    async def ask_from(self, base_url: str, forwarded_for: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base_url,
                                     headers={"X-Forwarded-For": forwarded_for}) as http:
            return await request_link(http, f"fwd-{uuid.uuid4().hex[:8]}@example.org")

    async def test_a_trusted_proxy_names_the_client_that_logs_and_limits_count(
        self, tmp_path, databases, smtp_server
    ):
        with serve_main(tmp_path, PANAMIA_ENV="test", **databases, SIGNIN_LIMIT_PER_CLIENT="1",
                        SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}") as (base_url, stop):
            first = await self.ask_from(base_url, self.FIRST)
            second = await self.ask_from(base_url, self.SECOND)
            again = await self.ask_from(base_url, self.FIRST)
            logged = stop()
        assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)
        assert f'{self.FIRST}:0 - "POST /api/auth/signin/email' in logged

    async def test_from_a_proxy_not_allowed_the_forwarded_address_is_ignored(
        self, tmp_path, databases, smtp_server
    ):
        with serve_main(tmp_path, PANAMIA_ENV="test", **databases, SIGNIN_LIMIT_PER_CLIENT="1",
                        FORWARDED_ALLOW_IPS="192.0.2.1",
                        SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}") as (base_url, stop):
            answers = [await self.ask_from(base_url, address)
                       for address in (self.FIRST, self.SECOND)]
            logged = stop()
        assert 429 in [answer.status_code for answer in answers]
        assert self.FIRST not in logged and self.SECOND not in logged
        assert access_line("POST", "/api/auth/signin/email", 429).search(logged)
