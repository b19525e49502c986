"""Messages on a booking in Debian's Chromium, against both services run as `panamia dev`
runs them: an owner at a desktop size asks for nights and writes to the sitter from the
booking's page; the sitter, on a phone, reads it there and answers. No JavaScript is needed
for any of it. Each page is saved to test-artifacts/.
"""

import re
from playwright.async_api import Browser, Page, expect

from panamia.settings import Settings
from tests.fixtures.browser import ARTIFACTS
from tests.pages.test_pets_browser import START, ask_for_nights, person, two_servers

__all__ = ["two_servers"]  # the served services, shared with the pets journey's module
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MESSAGES = re.compile(r"^Messages")


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"messages-{name}.png"), full_page=True)


async def offer_listing(sitter: Page, settings: Settings, title: str) -> str:
    await sitter.goto(f"{settings.pets_url}/listings/new")
    await sitter.get_by_label("Title").fill(title)
    await sitter.get_by_label("Description").fill("Books everywhere, two cats.")
    await sitter.get_by_label("Price per night").fill("35")
    await sitter.get_by_label("Boarding").check()
    await sitter.get_by_label("Cat", exact=True).check()
    await sitter.get_by_label("Most pets at a time").fill("2")
    await sitter.get_by_label("City").fill("Miami")
    await sitter.get_by_role("button", name="Publish listing").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Your listing is published")
    return sitter.url


async def test_owner_writes_and_the_sitter_answers(browser: Browser, two_servers: Settings):
    settings = two_servers
    ARTIFACTS.mkdir(exist_ok=True)
    sitter = await person(browser, settings, "sitter", phone=True)
    owner = await person(browser, settings, "owner")
    await owner.set_viewport_size(DESKTOP)
    await sitter.set_viewport_size(PHONE)
    listing_url = await offer_listing(sitter, settings, "Cats among the books")

    await ask_for_nights(owner, settings, listing_url, "Misu")
    await owner.get_by_label("Kind of pet 1").select_option("cat")
    await owner.get_by_role("button", name="Send request").click()
    await expect(owner.get_by_role("status")).to_contain_text("Request sent")
    await owner.get_by_role("link", name=MESSAGES).click()
    await expect(owner.get_by_role("heading", name="Messages")).to_be_visible()
    await expect(owner.get_by_text("No messages yet.")).to_be_visible()

    await owner.get_by_role("button", name="Send message").click()
    await expect(owner.get_by_role("alert")).to_contain_text("this message is empty")
    await expect(owner.locator("#body-error")).to_have_text(
        "Write something before sending: this message is empty.")
    await owner.get_by_label("Your message").fill("Hi! Misu <3 tuna.\nShe hides at night.")
    await owner.get_by_role("button", name="Send message").click()
    await expect(owner.get_by_role("status")).to_contain_text("Message sent.")
    sent = owner.locator(".thread .message")
    await expect(sent).to_have_count(1)
    await expect(sent.first).to_contain_text("You ·")
    await expect(sent.first.locator(".body")).to_have_text(
        "Hi! Misu <3 tuna.She hides at night.")  # the line break is a <br>
    await shot(owner, "01-owner-desktop")

    await sitter.goto(f"{settings.pets_url}/bookings")
    await sitter.get_by_role("link", name=MESSAGES).click()
    thread = sitter.locator(".thread .message")
    await expect(thread).to_have_count(1)
    await expect(thread.first).to_contain_text("Hi! Misu <3 tuna.")
    await expect(sitter.get_by_text(f"{START:%a} {START.day} {START:%b %Y}").first) \
        .to_be_visible()
    await sitter.get_by_label("Your message").fill("Of course. I'll leave the study open.")
    await sitter.get_by_role("button", name="Send message").click()
    await expect(sitter.get_by_role("status")).to_contain_text("Message sent.")
    await expect(thread).to_have_count(2)
    await expect(thread.last).to_contain_text("You ·")
    await expect(thread.last).to_contain_text("I'll leave the study open.")
    width = await sitter.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the thread fits a phone without scrolling sideways"
    await shot(sitter, "02-sitter-phone")

    await owner.reload()
    await expect(sent).to_have_count(2)
    await expect(sent.last).to_contain_text("I'll leave the study open.")
    for page in (sitter, owner):
        await page.context.close()
