"""Pet sitting in Debian's Chromium, against both services run as `panamia dev` runs them on
127.0.0.1 (cookies ignore the port, so one sign-in serves both).

A sitter offers a listing; an owner, in a second browser context, asks for nights; the
sitter confirms; the owner's notification badge on the main app changes. Then two people
send a request for the same nights at once, and one of them sees the friendly conflict.
A new sitter finds their listing and a request's deadline on My sitting and declines after
being asked; an owner on a phone searches past dates, and asks twice for the same nights.
Each page is saved to test-artifacts/.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from panamia.pets.bookings.service import local_today
from panamia.pets.pages import TAKEN
from panamia.settings import Settings
from tests.fixtures.browser import ARTIFACTS, dev_services
from tests.fixtures.database import migrated_database
from tests.fixtures.resources import TEST_SECRET
from tests.fixtures.servers import free_port

START = local_today("America/New_York", datetime.now(UTC)) + timedelta(days=40)


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"pets-{name}.png"), full_page=full_page)


@pytest.fixture(scope="module")
async def two_servers(server_urls, mongo_client):
    """Both services in their own processes on one migrated database with real commits, mail
    in the main app's dev outbox. Stopped, and the database dropped, at the end."""
    async with migrated_database("panamia_pets_browser") as postgres_url:
        settings = Settings(
            panamia_env="test", postgres_url=postgres_url, mongodb_url=server_urls[1],
            mongodb_db=f"pets_pages_{uuid.uuid4().hex[:10]}", auth_secret=TEST_SECRET,
            auth_url=f"http://127.0.0.1:{free_port()}",
            pets_url=f"http://127.0.0.1:{free_port()}", _env_file=None,
        )
        async with dev_services(settings, "main", "pets"):
            yield settings
        await mongo_client.drop_database(settings.mongodb_db)


async def person(browser: Browser, settings: Settings, name: str, *, phone: bool = False) -> Page:
    """A browser context of its own, signed in through the emailed link (the dev outbox)."""
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
    context = await browser.new_context(viewport=size)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    email = f"{name}_{uuid.uuid4().hex[:6]}@example.org"
    await page.goto(f"{settings.auth_url}/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    await page.goto(f"{settings.auth_url}/dev/outbox")
    await page.get_by_role("link", name=f"Open the sign-in link for {email}").click()
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(f"{settings.auth_url}/account")
    return page


async def ask_for_nights(page: Page, settings: Settings, listing_url: str, pet: str) -> None:
    await page.goto(listing_url)
    await page.get_by_label("First night").fill(START.isoformat())
    await page.get_by_label("Check-out day").fill((START + timedelta(days=3)).isoformat())
    await page.get_by_label("Name of pet 1").fill(pet)


async def badge(page: Page, url: str, expected: str, tries: int = 40) -> None:
    """The header's unread count, once the outbox relay has delivered (it polls)."""
    for _ in range(tries):
        await page.goto(url)
        if await page.locator(".badge").count() and \
                expected in await page.locator(".badge").inner_text():
            return
        await asyncio.sleep(0.25)
    await expect(page.locator(".badge")).to_contain_text(expected)


async def test_offer_request_confirm_and_a_race(browser: Browser, two_servers: Settings):
    settings = two_servers
    ARTIFACTS.mkdir(exist_ok=True)
    sitter = await person(browser, settings, "sitter")
    owner = await person(browser, settings, "owner")

    await sitter.goto(f"{settings.pets_url}/listings/new")
    await sitter.get_by_role("button", name="Publish listing").click()
    await expect(sitter.get_by_role("alert")).to_contain_text("Title: Fill this in.")
    await sitter.get_by_label("Title").fill("Garden & naps <Wynwood>")
    await sitter.get_by_label("Description").fill("A shady yard.\nTwo walks a day.")
    await sitter.get_by_label("Price per night").fill("45")
    await sitter.get_by_label("Boarding").check()
    await sitter.get_by_label("Dog", exact=True).check()
    await sitter.get_by_label("Cat", exact=True).check()
    await sitter.get_by_label("Most pets at a time").fill("2")
    await sitter.get_by_label("City").fill("Miami")
    await shot(sitter, "01-listing-form")
    await sitter.get_by_role("button", name="Publish listing").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Your listing is published")
    await expect(sitter.get_by_role("heading", level=1)).to_have_text("Garden & naps <Wynwood>")
    listing_url = sitter.url
    await shot(sitter, "02-listing-as-sitter")

    await owner.goto(f"{settings.pets_url}/?city=miami")
    await expect(owner.get_by_role("link", name="Garden & naps <Wynwood>")).to_be_visible()
    await shot(owner, "03-search")
    await ask_for_nights(owner, settings, listing_url, "Luna")
    await expect(owner.locator("#price-preview")).to_have_text("3 nights × $45.00 = $135.00")
    await owner.get_by_label("Note for the sitter").fill("She snores.")
    await shot(owner, "04-request-form")
    await owner.get_by_role("button", name="Send request").click()
    await expect(owner.get_by_role("status")).to_contain_text("$135.00 in all")
    await shot(owner, "05-bookings-owner-pending")

    await badge(sitter, f"{settings.auth_url}/notifications", "1")
    await sitter.goto(f"{settings.pets_url}/bookings")
    await expect(sitter.get_by_role("link", name="Decline…")).to_be_visible()
    await shot(sitter, "06-bookings-sitter-pending")
    await owner.goto(f"{settings.auth_url}/")
    assert await owner.locator(".badge").count() == 0  # nothing unread yet
    await sitter.get_by_role("button", name="Confirm").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Booking confirmed")
    await expect(sitter.get_by_role("button", name="Confirm")).to_have_count(0)
    await shot(sitter, "07-bookings-sitter-confirmed")
    await badge(owner, f"{settings.auth_url}/", "1")
    await shot(owner, "08-main-badge")
    await owner.goto(f"{listing_url}?month={START:%Y-%m}")
    await expect(owner.locator(f'td[data-date="{START.isoformat()}"]')).to_contain_text("booked")

    # The race: two people, the same nights (after Luna's stay), sent at the same moment.
    START_2 = START + timedelta(days=3)
    rival = await person(browser, settings, "rival", phone=True)
    for page, pet in ((owner, "Max"), (rival, "Rex")):
        await page.goto(listing_url)
        await page.get_by_label("First night").fill(START_2.isoformat())
        await page.get_by_label("Check-out day").fill((START_2 + timedelta(days=2)).isoformat())
        await page.get_by_label("Name of pet 1").fill(pet)
    await asyncio.gather(*(p.get_by_role("button", name="Send request").click()
                           for p in (owner, rival)))
    pages = []
    for page in (owner, rival):
        await page.wait_for_load_state()
        pages.append((await page.get_by_role("alert").count() > 0, page))
    lost = [page for conflicted, page in pages if conflicted]
    assert len(lost) == 1, [page.url for page in (owner, rival)]
    loser = lost[0]
    await expect(loser.get_by_role("alert")).to_contain_text(TAKEN)
    await expect(loser.locator(f'td[data-date="{START_2.isoformat()}"]')).to_contain_text(
        "booked")
    assert await loser.get_by_label("Name of pet 1").input_value() in ("Max", "Rex")
    await shot(loser, "09-conflict")
    await rival.goto(listing_url)
    await shot(rival, "10-listing-phone")
    for page in (sitter, owner, rival):
        await page.context.close()


async def test_a_new_sitter_declines_after_being_asked(browser: Browser, two_servers: Settings):
    settings = two_servers
    ARTIFACTS.mkdir(exist_ok=True)
    sitter = await person(browser, settings, "newsitter")
    owner = await person(browser, settings, "phoneowner", phone=True)

    await sitter.goto(f"{settings.pets_url}/sitting")
    await sitter.get_by_role("link", name="Offer pet sitting").first.click()
    await sitter.get_by_label("Title").fill("Desert garden")
    await sitter.get_by_label("Price per night").fill("$35")
    await sitter.get_by_label("Boarding").check()
    await sitter.get_by_label("Dog", exact=True).check()
    await sitter.get_by_label("City").fill("Tempe")
    await sitter.get_by_label("ZIP code").fill("85281")
    await sitter.get_by_role("button", name="Publish listing").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Find it under My sitting")
    await expect(sitter.get_by_text("Arizona time (Phoenix)")).to_be_visible()
    listing_url = sitter.url

    # The owner, on a phone: past dates list no one, with the message by the field.
    await owner.goto(f"{settings.pets_url}/")
    await owner.get_by_label("First night").fill((START - timedelta(days=60)).isoformat())
    await owner.get_by_label("Check-out day").fill((START - timedelta(days=57)).isoformat())
    await owner.get_by_role("button", name="Search").click()
    await expect(owner.locator("#from-error")).to_have_text(
        "This day has passed; search from today on.")
    await expect(owner.locator(".listing-card")).to_have_count(0)
    await shot(owner, "11-search-past-dates-phone")

    await ask_for_nights(owner, settings, listing_url, "Luna")
    await owner.get_by_role("button", name="Send request").click()
    await expect(owner.get_by_role("status")).to_contain_text("Request sent")
    await ask_for_nights(owner, settings, listing_url, "Luna")
    await owner.get_by_role("button", name="Send request").click()
    await expect(owner.get_by_role("alert")).to_contain_text(
        "You already asked for some of these nights")
    await owner.get_by_role("link", name="See your request").click()
    await expect(owner.get_by_text("Pending").first).to_be_visible()
    await shot(owner, "12-own-request-phone")

    await sitter.goto(f"{settings.pets_url}/")
    await sitter.get_by_role("link", name="My sitting").click()
    await expect(sitter.get_by_role("link", name="Desert garden").first).to_be_visible()
    await expect(sitter.get_by_role("link", name="Edit Desert garden")).to_be_visible()
    await expect(sitter.locator(".deadline")).to_contain_text("Answer by")
    await shot(sitter, "13-my-sitting")
    await sitter.get_by_role("link", name="Decline…").click()
    await expect(sitter.get_by_role("heading", level=1)).to_have_text("Decline this request?")
    await expect(sitter.get_by_text("will be told")).to_be_visible()
    await shot(sitter, "14-decline-asks-first")
    await sitter.get_by_role("button", name="Yes, decline").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Request declined")
    await expect(sitter.get_by_text("No requests are waiting.")).to_be_visible()
    for page in (sitter, owner):
        await page.context.close()
