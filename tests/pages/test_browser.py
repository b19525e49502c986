"""A person's first visit, in Debian's Chromium against `panamia serve main`.

Sign in through the emailed link (read from the dev outbox page), choose a screenname with
the live check, fill in the profile, write and publish an article, find it listed. Each
page is saved as a screenshot in test-artifacts/ for a human to look at.
"""

import uuid

import pytest
from playwright.async_api import Page, expect

from panamia import demo
from panamia.resources import Resources
from panamia.settings import Settings
from tests.fixtures.browser import ARTIFACTS


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


@pytest.fixture(scope="module")
async def demo_community(live_server_settings: Settings) -> None:
    """The demo people, so the directory and home page look lived in."""
    resources = Resources.open(live_server_settings, "tests")
    try:
        await demo.seed(resources)
    finally:
        await resources.close()


async def test_a_first_visit(page: Page, live_server: str, demo_community):
    name = f"luna_{uuid.uuid4().hex[:6]}"
    email = f"{name}@example.org"

    await page.goto(f"{live_server}/signin")
    await shot(page, "01-signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

    await page.get_by_role("link", name="dev outbox").click()
    await shot(page, "02-dev-outbox")
    await page.get_by_role("link", name=f"Open the sign-in link for {email}").click()
    await expect(page.get_by_role("heading", name="Sign in to Pana MIA")).to_be_visible()
    await shot(page, "02b-sign-in-link")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{live_server}/account")

    screenname = page.get_by_role("textbox", name="Screenname")
    await screenname.fill("admin")
    await expect(page.locator("#screenname-status")).to_contain_text("reserved")
    await screenname.fill(name)
    await expect(page.locator("#screenname-status")).to_contain_text(f"@{name} is available")
    await shot(page, "03-account-screenname-check")
    await page.get_by_role("button", name="Save screenname").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Your screenname is now @{name}")

    await page.get_by_label("Name", exact=True).fill("Café Luna")
    await page.get_by_label("Bio").fill("Espresso, pastelitos and a window on the street.")
    await page.get_by_label("Categories").fill("coffee, food")
    monday = page.get_by_role("group", name="Monday")
    await monday.get_by_label("Opens").fill("08:00")
    await monday.get_by_label("Closes").fill("16:30")
    await page.get_by_role("group", name="Sunday").get_by_label("Closed").check()
    await page.get_by_label("Instagram").fill("instagram cafeluna")
    await page.get_by_label("Show my profile in the directory").check()
    await page.get_by_role("button", name="Save profile").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("Enter a web address")
    await expect(page.get_by_label("Bio")).to_have_value(
        "Espresso, pastelitos and a window on the street.")
    await shot(page, "04-account-errors")
    await page.get_by_label("Instagram").fill("instagram.com/cafeluna")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    await shot(page, "05-account-saved")

    await page.goto(f"{live_server}/people/{name}")
    await expect(page.get_by_role("row", name="Monday 8:00 AM – 4:30 PM")).to_be_visible()
    await expect(page.get_by_role("link", name="Instagram")).to_have_attribute(
        "href", "https://instagram.com/cafeluna")
    await shot(page, "06-public-profile")

    await page.goto(f"{live_server}/articles/new")
    await page.get_by_label("Title").fill("Our first week")
    await page.get_by_label("Text").fill("We opened on **Monday**.\n\n<script>alert(1)</script>")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("note")).to_contain_text("This is a draft")
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Published")
    await expect(page.locator(".prose strong")).to_have_text("Monday")
    await shot(page, "07-article")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Articles").click()
    await expect(page.get_by_role("link", name="Our first week")).to_be_visible()
    await shot(page, "08-articles")

    await page.goto(f"{live_server}/directory?q=cafe")
    await expect(page.get_by_role("link", name="Café Luna")).to_be_visible()
    await shot(page, "09-directory")
    await page.goto(f"{live_server}/")
    await shot(page, "10-home")

    await page.goto(f"{live_server}/account")
    await page.get_by_role("link", name="Your signed-in devices").click()
    await expect(page.get_by_role("heading", name="HeadlessChrome")).to_contain_text(
        "This device")
    await shot(page, "10b-signed-in-devices")

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{live_server}/account")
    await page.get_by_role("group", name="Monday").scroll_into_view_if_needed()
    await shot(page, "11-account-phone", full_page=False)


async def test_a_demo_person_reads_their_notifications(page: Page, live_server: str,
                                                      demo_community):
    await page.goto(f"{live_server}/signin")
    await page.get_by_label("Email address").fill(demo.SIGN_IN_EXAMPLE)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.goto(f"{live_server}/dev/outbox")
    link = f"Open the sign-in link for {demo.SIGN_IN_EXAMPLE}"
    await page.get_by_role("link", name=link).first.click()
    await page.get_by_role("button", name="Sign in", exact=True).click()

    main_menu = page.get_by_role("navigation", name="Main")
    await main_menu.get_by_role("link", name="Notifications").click()
    await expect(page.get_by_text("Marco Díaz liked").first).to_be_visible()
    await shot(page, "12-notifications")
    await page.get_by_role("button", name="Mark all as read").click()
    await expect(page.get_by_role("status")).to_contain_text("as read")
    await expect(page.locator(".badge")).to_have_count(0)
