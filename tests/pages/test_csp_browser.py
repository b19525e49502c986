"""The Content-Security-Policy in Debian's Chromium: the pages work under it, an article's
remote image never reaches its host, and a script slipped into a page does not run."""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.async_api import Page, expect

from panamia.articles.documents import Status
from panamia.resources import Resources
from tests.articles.factories import create_article
from tests.identity.factories import create_user

VIOLATION = "Content Security Policy"


class Tracker(ThreadingHTTPServer):
    """Another host serving a one-pixel image, counting who asked for it."""

    def __init__(self):
        self.hits = 0
        super().__init__(("127.0.0.1", 0), TrackerHandler)

    @property
    def pixel_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/pixel.gif"


class TrackerHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tracker():
    server = Tracker()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
async def article_with_a_pixel(live_server_settings, tracker) -> str:
    resources = Resources.open(live_server_settings, "tests")
    try:
        author = await create_user(resources)
        return await create_article(
            resources, author, title="A corner at dawn", status=Status.PUBLISHED,
            body=f"The light on the corner.\n\n![The corner]({tracker.pixel_url})",
        )
    finally:
        await resources.close()


def violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if VIOLATION in message.text else None)
    return seen


async def test_pages_run_under_the_policy_and_images_stay_links(
    page: Page, live_server: str, article_with_a_pixel: str, tracker: Tracker
):
    refused = violations(page)
    for path in ("/", "/signin", "/articles", "/directory"):
        await page.goto(f"{live_server}{path}")
    await page.goto(f"{live_server}/articles/{article_with_a_pixel}")
    image = page.get_by_role("link", name="Image: The corner")
    await expect(image).to_have_attribute("href", tracker.pixel_url)
    assert refused == [] and tracker.hits == 0


async def test_what_slips_past_the_sanitizer_is_refused(
    page: Page, live_server: str, article_with_a_pixel: str, tracker: Tracker
):
    refused = violations(page)
    await page.goto(f"{live_server}/articles/{article_with_a_pixel}")
    await page.evaluate("""(pixel) => {
        const image = document.createElement("img");
        image.src = pixel;
        const script = document.createElement("script");
        script.textContent = "window.ran = true";
        document.body.append(image, script);
    }""", tracker.pixel_url)
    for _ in range(50):
        if len(refused) >= 2:
            break
        await asyncio.sleep(0.1)
    assert any("img-src" in text or "default-src" in text for text in refused), refused
    assert await page.evaluate("window.ran === undefined")
    assert tracker.hits == 0
