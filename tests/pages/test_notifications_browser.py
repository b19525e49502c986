"""A member opens a notification in Debian's Chromium, at a desktop and a phone size: it
reads as a sentence, its link lands on the booking on the pets site, and it shows as read;
then they choose a daily digest on their account's email page.
Both services run as `panamia dev` runs them; the booking request is made through the
bookings service, and the main app's relay delivers its notification."""

import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from panamia.identity.models import User
from panamia.pets.bookings import service as bookings
from panamia.pets.bookings.schemas import BookingRequest
from panamia.resources import Resources
from tests.fixtures.browser import ARTIFACTS, SIZES
from tests.identity.factories import create_user
from tests.pages.test_pets_browser import START, two_servers  # noqa: F401 - the fixture
from tests.pets.factories import create_listing
from tests.profiles.factories import principal


@pytest.mark.parametrize("size", SIZES)
async def test_open_a_booking_request_and_it_is_read(browser: Browser, two_servers, size):
    settings = two_servers
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(viewport=SIZES[size])
    context.set_default_timeout(10_000)
    page = await context.new_page()
    email = f"sitter_{uuid.uuid4().hex[:6]}@example.org"
    await page.goto(f"{settings.auth_url}/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.goto(f"{settings.auth_url}/dev/outbox")
    await page.get_by_role("link", name=f"Open the sign-in link for {email}").click()
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(f"{settings.auth_url}/account")

    resources = Resources.open(settings, "tests")
    try:
        async with resources.reads() as session:
            sitter = await session.scalar(select(User.id).where(User.email == email))
        listing = await create_listing(resources, sitter_id=sitter, title="Cats among the books")
        owner = principal(await create_user(resources))
        await bookings.request_booking(resources, owner, BookingRequest(
            listingId=listing.id, startDate=START, endDate=START + timedelta(days=2),
            pets=[{"name": "Miso", "species": "cat"}]))
    finally:
        await resources.close()

    await page.goto(f"{settings.auth_url}/notifications")
    link = page.get_by_role("link", name="Cats among the books")
    for _ in range(40):  # the relay polls: reload until it has delivered
        if await link.count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    await expect(page.locator(".notification.unread")).to_contain_text(
        "asked to book Cats among the books")
    await page.screenshot(path=str(ARTIFACTS / f"notifications-{size}.png"), full_page=True)
    await link.click()
    await page.wait_for_url(f"{settings.pets_url}/bookings/**")
    await expect(page.get_by_text("Cats among the books").first).to_be_visible()

    await page.goto(f"{settings.auth_url}/notifications")
    await expect(page.locator(".notification").first).to_contain_text("asked to book")
    await expect(page.locator(".notification.unread")).to_have_count(0)

    await page.goto(f"{settings.auth_url}/account")
    await page.get_by_role("link", name="Email about notifications").click()
    await expect(page.get_by_label("Right away")).to_be_checked()
    await page.get_by_label("Once a day").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("You will get one email a day")).to_be_visible()
    await expect(page.get_by_label("Once a day")).to_be_checked()
    await page.screenshot(path=str(ARTIFACTS / f"email-settings-{size}.png"), full_page=True)
    await context.close()

