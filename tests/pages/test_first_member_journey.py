"""A first-time member's whole journey in Debian's Chromium, against the main app and the pets
site run as `panamia dev` runs them: the newcomer, on a phone, signs in by the emailed link,
picks a screenname, fills a profile, uploads a profile picture, finds a neighbour by place
and follows them, books a sitter and writes to them; the sitter, at a desktop, opens the
notification, answers and confirms, and follows back; the newcomer then opens each of their
notifications. Every page on the way is read for programmer's words. Each step is saved to
test-artifacts/.
"""

import re
import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from panamia import demo
from panamia.resources import Resources
from panamia.settings import Settings
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.http import signed_in_cookies
from tests.pages.test_pets_browser import START, person, two_servers
from tests.pages.test_photos_browser import shown_picture
from tests.pages.test_plain_language import programmer_terms
from tests.pets.factories import create_listing
from tests.photos.factories import camera_jpeg
from tests.profiles.factories import create_member

__all__ = ["two_servers"]  # both services, served for this module
DESKTOP = {"width": 1280, "height": 800}
CHECK_OUT = START + timedelta(days=3)
FOLLOWERS = re.compile(r"^\d+$")


@pytest.fixture(scope="module")
async def community(two_servers: Settings) -> None:
    """The demo people, so that the directory has a neighbour in Miami Beach."""
    resources = Resources.open(two_servers, "tests")
    try:
        await demo.seed(resources)
    finally:
        await resources.close()


async def in_plain_words(page: Page) -> None:
    found = programmer_terms(await page.content())
    assert not found, f"{page.url}:\n" + "\n".join(found)


async def step(page: Page, name: str) -> None:
    """The page reads in a member's words and fits its screen's width without scrolling
    sideways; saved for a human to look at."""
    await in_plain_words(page)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"
    await page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


async def sitter_at_desk(browser: Browser, settings: Settings, title: str) -> tuple[Page, str]:
    """A sitter with a public profile and a listing in Miami, signed in at a desktop; their
    name."""
    name = "Marisol Vega"
    resources = Resources.open(settings, "tests")
    try:
        sitter = await create_member(resources, screenname=f"marisol_{uuid.uuid4().hex[:6]}",
                                     name=name, active=True)
        await create_listing(resources, sitter_id=sitter, title=title, city="Miami")
        cookies, _ = await signed_in_cookies(resources, sitter)
    finally:
        await resources.close()
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    await context.add_cookies([{"name": key, "value": value, "url": settings.auth_url}
                               for key, value in cookies.items()])
    return await context.new_page(), name


async def unread(page: Page, settings: Settings, words: str) -> Locator:
    """The unread notification saying `words`, once the outbox relay has delivered it (it
    polls): the notifications page is reloaded until it shows."""
    notification = page.locator(".notification.unread", has_text=words)
    for _ in range(40):
        await page.goto(f"{settings.auth_url}/notifications")
        try:
            await expect(notification).to_be_visible(timeout=250)
            return notification
        except AssertionError:
            continue
    await expect(notification).to_be_visible()
    return notification


async def open_notification(page: Page, settings: Settings, words: str, link: str) -> None:
    """Open the unread notification saying `words` by its link whose name holds `link`: the
    page it leads to answers."""
    notification = await unread(page, settings, words)
    async with page.expect_navigation() as landing:
        await notification.get_by_role("link", name=link).click()
    answered = await landing.value
    assert answered is not None and answered.ok, (page.url, answered and answered.status)
    await in_plain_words(page)


async def shows_read(page: Page, settings: Settings, words: str) -> None:
    await page.goto(f"{settings.auth_url}/notifications")
    await expect(page.locator(".notification", has_text=words)).to_have_count(1)
    await expect(page.locator(".notification.unread", has_text=words)).to_have_count(0)


async def test_a_first_time_member_finds_books_writes_and_follows(
    browser: Browser, two_servers: Settings, community
):
    settings = two_servers
    ARTIFACTS.mkdir(exist_ok=True)
    suffix = uuid.uuid4().hex[:6]
    title = f"Sunny porch {suffix}"
    sitter, sitter_name = await sitter_at_desk(browser, settings, title)

    # 1. Sign in by the emailed link, on a phone; a screenname; a profile.
    newcomer = await person(browser, settings, "newcomer", phone=True)
    screenname = f"nueva_{suffix}"
    await newcomer.get_by_role("textbox", name="Screenname").fill(screenname)
    await expect(newcomer.locator("#screenname-status")).to_contain_text(
        f"@{screenname} is available")
    await newcomer.get_by_role("button", name="Save screenname").click()
    await expect(newcomer.get_by_role("status")).to_contain_text(
        f"Your screenname is now @{screenname}")
    await newcomer.get_by_label("Name", exact=True).fill("Nueva Ruiz")
    await newcomer.get_by_label("Bio").fill("New in town, with a very calm greyhound.")
    await newcomer.get_by_label("Show my profile in the directory").check()
    await newcomer.get_by_role("button", name="Save profile").click()
    await expect(newcomer.get_by_role("status")).to_contain_text("Your profile is saved.")
    await step(newcomer, "01-profile-saved")

    # 2. A profile picture, seen on the public profile.
    await newcomer.get_by_role("link", name="Add a profile picture").click()
    await newcomer.get_by_label("Photo", exact=True).set_input_files(
        {"name": "IMG_0002.JPG", "mimeType": "image/jpeg", "buffer": camera_jpeg(640, 480)})
    await newcomer.get_by_label("Description").fill("Nueva and her greyhound")
    await step(newcomer, "02-picture-form")
    await newcomer.get_by_role("button", name="Upload the photo").click()
    await expect(newcomer.get_by_role("status")).to_contain_text(
        "Your profile picture is saved.")
    await newcomer.goto(f"{settings.auth_url}/people/{screenname}")
    await expect(newcomer.get_by_role("heading", level=1)).to_contain_text("Nueva Ruiz")
    await shown_picture(newcomer, "Nueva and her greyhound")
    await step(newcomer, "03-own-profile")

    # 3. A neighbour by place, followed from their profile.
    await newcomer.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Directory").click()
    await newcomer.get_by_label("Search").fill("Miami Beach")
    await newcomer.get_by_role("button", name="Search").click()
    await expect(newcomer.locator(".result-count")).to_have_text(
        "1 person matching “Miami Beach”")
    await step(newcomer, "04-directory-miami-beach")
    await newcomer.get_by_role("link", name="Sofía Castro").click()
    followers = newcomer.locator(".followers-count")
    await expect(followers).to_have_text(FOLLOWERS)
    before = int(await followers.inner_text())
    await newcomer.get_by_role("button", name="Follow", exact=True).click()
    await expect(newcomer.get_by_role("status")).to_contain_text("You follow @sofia_yoga now.")
    await expect(followers).to_have_text(str(before + 1))
    await expect(newcomer.get_by_role("button", name="Unfollow")).to_be_visible()
    await step(newcomer, "05-following-a-neighbour")

    # 4. Pet sitting: the sitter's listing for the nights, a request, a message on it.
    await newcomer.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Pet sitting").click()
    await newcomer.get_by_label("First night").fill(START.isoformat())
    await newcomer.get_by_label("Check-out day").fill(CHECK_OUT.isoformat())
    await newcomer.get_by_label("City").fill("Miami")
    await newcomer.get_by_role("button", name="Search").click()
    await step(newcomer, "06-sitters-free")
    await newcomer.get_by_role("link", name=title).click()
    await expect(newcomer.get_by_role("heading", level=1)).to_have_text(title)
    await newcomer.get_by_label("First night").fill(START.isoformat())
    await newcomer.get_by_label("Check-out day").fill(CHECK_OUT.isoformat())
    await newcomer.get_by_label("Name of pet 1").fill("Galgo")
    await expect(newcomer.locator("#price-preview")).to_have_text("3 nights × $45.00 = $135.00")
    await step(newcomer, "07-request-form")
    await newcomer.get_by_role("button", name="Send request").click()
    await expect(newcomer.get_by_role("status")).to_contain_text("Request sent")
    await step(newcomer, "08-request-sent")
    await newcomer.get_by_role("link", name=re.compile(r"^Messages")).click()
    await newcomer.get_by_label("Your message").fill("Hi! Galgo sleeps all day, promise.")
    await newcomer.get_by_role("button", name="Send message").click()
    await expect(newcomer.get_by_role("status")).to_contain_text("Message sent.")
    await expect(newcomer.locator(".thread .message")).to_have_count(1)
    await step(newcomer, "09-message-sent")

    # 5. The sitter opens the request's notification: it lands on the booking, where they
    # answer and confirm; the message's notification too; then they follow the newcomer.
    await unread(sitter, settings, "sent you a message")
    await unread(sitter, settings, "asked to book")
    await expect(sitter.locator(".badge")).to_contain_text("2 unread")
    await step(sitter, "10-sitter-notifications")
    await open_notification(sitter, settings, "asked to book", title)
    await expect(sitter).to_have_url(re.compile(rf"^{settings.pets_url}/bookings/"))
    await expect(sitter.get_by_role("heading", level=1)).to_have_text(title)
    thread = sitter.locator(".thread .message")
    await expect(thread.first).to_contain_text("Hi! Galgo sleeps all day, promise.")
    await sitter.get_by_label("Your message").fill("Of course! Bring his blanket.")
    await sitter.get_by_role("button", name="Send message").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Message sent.")
    await expect(thread).to_have_count(2)
    await sitter.get_by_role("button", name="Confirm").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Booking confirmed")
    await expect(sitter.locator(".status-tag")).to_have_text("Confirmed")
    await step(sitter, "11-sitter-confirmed")
    await shows_read(sitter, settings, "asked to book")
    await open_notification(sitter, settings, "sent you a message",
                            "Hi! Galgo sleeps all day, promise.")
    await expect(sitter.get_by_role("heading", name="Messages")).to_be_visible()
    await shows_read(sitter, settings, "sent you a message")
    await step(sitter, "12-sitter-notifications-read")
    await sitter.goto(f"{settings.auth_url}/people/{screenname}")
    await sitter.get_by_role("button", name="Follow", exact=True).click()
    await expect(sitter.get_by_role("status")).to_contain_text(f"You follow @{screenname} now.")

    # 6. The newcomer opens each of their notifications: each lands where it says, then
    # shows as read; nothing is left unread.
    await open_notification(newcomer, settings, "follows you", sitter_name)
    await expect(newcomer.get_by_role("heading", level=1)).to_contain_text(sitter_name)
    await step(newcomer, "13-follower-profile")
    await shows_read(newcomer, settings, "follows you")
    await open_notification(newcomer, settings, "sent you a message",
                            "Of course! Bring his blanket.")
    await expect(newcomer.locator(".thread .message").last).to_contain_text(
        "Of course! Bring his blanket.")
    await step(newcomer, "14-answer-read")
    await shows_read(newcomer, settings, "sent you a message")
    await open_notification(newcomer, settings, "confirmed your booking of", title)
    await expect(newcomer.get_by_role("heading", level=1)).to_have_text(title)
    await expect(newcomer.locator(".status-tag")).to_have_text("Confirmed")
    await step(newcomer, "15-booking-confirmed")
    await shows_read(newcomer, settings, "confirmed your booking of")
    await expect(newcomer.locator(".badge")).to_have_count(0)
    await step(newcomer, "16-all-read")
    for page in (sitter, newcomer):
        await page.context.close()
