"""Page tests: helpers to act like a browser over HTTP, and a real Chromium for the browser test."""

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import async_playwright

from panamia import dev as dev_runner
from panamia.schema import migrate
from panamia.settings import Settings
from tests.conftest import TEST_SECRET, free_port, recreate_database
from tests.identity.factories import create_user, sign_in_as

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TOKEN = re.compile(r'name="csrfToken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    return TOKEN.search(html).group(1)


async def form_token(client: httpx.AsyncClient, path: str = "/") -> str:
    """Open a page as a browser does (which sets the CSRF cookie) and read its forms' token."""
    page = await client.get(path, headers=BROWSER)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


async def submit(client: httpx.AsyncClient, action: str, data: dict, *, page: str = "/"):
    """POST a form the way a browser without JavaScript does, token included."""
    token = await form_token(client, page)
    return await client.post(action, data={**data, "csrfToken": token}, headers=BROWSER)


def text_of(html: str) -> str:
    """The page's text, tags dropped, for asserting on what a person reads."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def signed_in_member(client, resources, *, screenname: str | None = None,
                           name: str | None = None) -> str:
    user_id = await create_user(resources, screenname=screenname, name=name)
    await sign_in_as(client, resources, user_id)
    return user_id


# --- the real browser -------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt when missing (Playwright cannot download its own
    browsers here)."""
    if not os.path.exists(CHROMIUM):
        if os.geteuid() != 0:
            pytest.fail(f"{CHROMIUM} is missing and these tests are not running as root: install "
                        "it with `sudo apt-get install -y chromium`.")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                pytest.fail(f"`{' '.join(command)}` failed:\n{done.stderr[-2000:]}")
    return CHROMIUM


def server_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """Only this test's settings: none of the caller's PANAMIA_/AUTH_/SMTP_ variables."""
    names = ("PANAMIA_", "AUTH_", "POSTGRES_", "MONGODB_", "SMTP_", "PETS_URL", "ADMIN_EMAILS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(
        PANAMIA_ENV="development", PANAMIA_DATA_DIR=str(data_dir), AUTH_SECRET=settings.secret,
        POSTGRES_URL=settings.postgres_url, MONGODB_URL=settings.mongodb_url,
        MONGODB_DB=settings.mongodb_db, AUTH_URL=settings.auth_url, PETS_URL=settings.pets_url,
    )
    return env


async def wait_until_serving(process: subprocess.Popen, url: str, log: Path,
                             timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the main app exited with {process.returncode}:\n"
                            f"{log.read_text()[-3000:]}")
            try:
                if (await http.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"the main app did not answer within {timeout}s:\n"
                f"{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
async def live_server_settings(server_urls, mongo_client) -> Settings:
    """Databases of its own for the served app: migrated PostgreSQL whose commits are real,
    and a fresh MongoDB database, dropped afterwards."""
    postgres_url = await recreate_database(server_urls[0], "panamia_pages_browser")
    await asyncio.to_thread(migrate.upgrade, postgres_url)
    settings = Settings(
        panamia_env="test", postgres_url=postgres_url, mongodb_url=server_urls[1],
        mongodb_db=f"pages_{uuid.uuid4().hex[:10]}", auth_secret=TEST_SECRET,
        auth_url=f"http://127.0.0.1:{free_port()}", pets_url="http://127.0.0.1:9",
        _env_file=None,
    )
    yield settings
    await mongo_client.drop_database(settings.mongodb_db)


@pytest.fixture(scope="module")
async def live_server(live_server_settings):
    """The main app in its own process as `panamia dev` runs it, mail in the dev outbox.
    Stopped, and its scratch directory removed, at the end of the module."""
    settings = live_server_settings
    scratch = Path(tempfile.mkdtemp(prefix="panamia-pages-"))
    log = scratch / "server.log"
    port = urlsplit(settings.auth_url).port
    with log.open("wb") as sink:
        process = subprocess.Popen(
            dev_runner.service_command("main", "127.0.0.1", port),
            env=server_env(settings, scratch), cwd=scratch, stdin=subprocess.DEVNULL,
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        await wait_until_serving(process, settings.auth_url, log)
        yield settings.auth_url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
async def browser(chromium):
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, headless=True,
                                                    args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()
