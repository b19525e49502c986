"""Accessibility in Debian's Chromium: axe-core finds nothing against WCAG 2.1 and 2.2 AA on
any page of any service (their API docs included), at a desktop and a phone size; focus rings
stand out; the header's links are targets a thumb can hit; /docs works with no CDN; the site
icon is served and a page loads without a console error.

axe-core is the npm package pinned in tests/pages/axe/package-lock.json, installed once per
lock into `.panamia/node-axe/<lock hash>/` (npm needs the registry the first time).
"""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from filelock import FileLock
from playwright.async_api import Browser, Page, Route

from panamia.pages.rendering import STATIC_DIR
from tests.fixtures.browser import ARTIFACTS
from tests.pages.site_crawl import Site

REPO = Path(__file__).resolve().parents[2]
AXE_PACKAGE = Path(__file__).with_name("axe")
AXE_HOME = REPO / ".panamia" / "node-axe"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map(v => `${v.id} (${v.help}): ` +
    v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""


@pytest.fixture(scope="module")
def axe_script() -> str:
    """axe-core's browser bundle, from the pinned package (installed when missing)."""
    if not shutil.which("npm"):
        pytest.fail("The accessibility tests need `npm` on PATH (Node.js 20 or later, "
                    "https://nodejs.org/en/download) to install axe-core.")
    lock = (AXE_PACKAGE / "package-lock.json").read_bytes()
    home = AXE_HOME / hashlib.sha256(lock).hexdigest()[:16]
    home.mkdir(parents=True, exist_ok=True)
    with FileLock(str(home) + ".lock"):
        if not (home / "installed").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(AXE_PACKAGE / name, home / name)
            done = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                                  cwd=home, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                pytest.fail(f"`npm ci` failed in {home}:\n{done.stdout}\n{done.stderr}")
            (home / "installed").touch()
    return (home / "node_modules" / "axe-core" / "axe.min.js").read_text()


@pytest.fixture(scope="module")
async def member_page(browser: Browser, site: Site) -> Page:
    """One page of a browser signed in as the first demo member, for every visit of this
    module."""
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await sign_in(page, site, next(iter(site.members)))
    yield page
    await context.close()


async def sign_in(page: Page, site: Site, member: str) -> None:
    """The browser's cookies become `member`'s (one session serves every service)."""
    await page.context.clear_cookies()
    await page.context.add_cookies([
        {"name": name, "value": value, "url": site.settings.auth_url}
        for name, value in site.members[member].items()])


def test_every_page_route_is_reached(site: Site):
    """A page no demo member's page leads to escapes every check here."""
    assert not site.unreached, (
        f"No demo member's pages lead to these routes, so they are not checked: "
        f"{site.unreached}. Link to them from a page, or give the demo community what they "
        "show.")


async def test_no_page_of_any_service_breaks_wcag_aa(member_page: Page, site: Site,
                                                     axe_script: str):
    """Each page is loaded once and checked at both sizes: the phone size's layout comes from
    resizing the loaded page, as the style sheets' media queries apply it."""
    found, first = [], next(iter(site.members))
    current = first
    for url, member in [*site.pages, *((docs, first) for docs in site.docs)]:
        if member != current:
            await sign_in(member_page, site, member)
            current = member
        await member_page.set_viewport_size(DESKTOP)
        await member_page.goto(url)
        if url.endswith("/docs"):
            await member_page.locator(".opblock").first.wait_for()
        await member_page.evaluate(axe_script)
        for size in (DESKTOP, PHONE):
            await member_page.set_viewport_size(size)
            found += [f"{url} at {size['width']}px: {violation}"
                      for violation in await member_page.evaluate(RUN_AXE, WCAG_AA)]
    assert not found, "\n".join(found)


async def test_header_links_are_big_enough_to_tap_on_a_phone(member_page: Page, site: Site):
    await member_page.set_viewport_size(PHONE)
    await member_page.goto(f"{site.settings.auth_url}/")
    targets = member_page.locator(".site-header a, .site-header button")
    assert await targets.count() >= 6  # brand, sections, sidecars, notifications, account
    for target in await targets.all():
        box = await target.bounding_box()
        label = (await target.inner_text()).strip()
        assert box["height"] >= 24, f"{label!r} is {box['height']}px tall"
        assert box["height"] < 40, f"{label!r} breaks over two lines"
        assert box["x"] + box["width"] <= PHONE["width"], f"{label!r} runs off the screen"
    ARTIFACTS.mkdir(exist_ok=True)
    await member_page.locator(".site-header").screenshot(path=ARTIFACTS / "header-phone.png")


async def test_api_docs_render_with_every_other_host_blocked(member_page: Page, site: Site):
    refused: list[str] = []
    service = {"host": ""}

    async def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).netloc == service["host"]:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await member_page.set_viewport_size(DESKTOP)
    await member_page.route("**/*", only_the_service)
    try:
        for docs in site.docs:
            service["host"] = urlsplit(docs).netloc
            await member_page.goto(docs)
            operations = member_page.locator(".opblock")
            await operations.first.wait_for()
            assert await operations.count() >= 3, docs
    finally:
        await member_page.unroute("**/*")
    assert not refused, refused


async def test_the_site_icon_is_served_and_the_home_page_logs_no_error(member_page: Page,
                                                                       site: Site):
    async with httpx.AsyncClient() as client:
        for service in site.services:
            icon = await client.get(f"{service.url}/favicon.ico")
            assert icon.status_code == 200
            assert icon.headers["content-type"] == "image/x-icon"
            svg = await client.get(f"{service.url}/static/favicon.svg")
            assert svg.headers["content-type"] == "image/svg+xml"
    errors: list[str] = []
    member_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    member_page.on("requestfailed", lambda r: errors.append(f"{r.url} failed"))
    member_page.on("response", lambda r: errors.append(f"{r.url}: {r.status}")
                   if r.status >= 400 else None)
    await member_page.goto(f"{site.settings.auth_url}/")
    await member_page.wait_for_load_state("load")
    assert not errors, errors


# What a focus ring sits on: the page, the footer's wash, and the header's dark band.
BACKGROUNDS = {"--focus": ("--paper", "--wash"), "--focus-on-dark": ("--brand-dark",)}


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a `#rrggbb` colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_computed_as_wcag_defines_it():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_focus_rings_contrast_at_least_3_to_1_with_what_they_sit_on():
    css = (STATIC_DIR / "site.css").read_text()
    colours = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\b", css))
    assert ":focus-visible { outline: 3px solid var(--focus)" in css
    assert ".site-header :focus-visible { outline-color: var(--focus-on-dark); }" in css
    for ring, backgrounds in BACKGROUNDS.items():
        for background in backgrounds:
            ratio = contrast(colours[ring], colours[background])
            assert ratio >= 3, f"{ring} on {background} is {ratio:.2f}:1"
