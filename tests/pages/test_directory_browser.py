"""The directory in Debian's Chromium, at a desktop and a phone size: a first-time visitor
finds a neighbour by place and by category, sees how many match, and clears the search; a
member gives the same hours every weekday and picks how times read. Each step is saved to
test-artifacts/.
"""

import re

from playwright.async_api import Browser, Page, expect

from panamia.settings import Settings
from tests.fixtures.browser import ARTIFACTS, SIZES
from tests.pages.test_browser import demo_community
from tests.pages.test_pets_browser import person

__all__ = ["demo_community"]  # the demo people, shared with the first-visit journey
EVERYONE = re.compile(r"^[1-9]\d* people$")


async def test_a_visitor_finds_neighbours_by_place_and_category(
    page: Page, live_server: str, demo_community
):
    count = page.locator(".result-count")
    for size, viewport in SIZES.items():
        await page.set_viewport_size(viewport)
        await page.goto(f"{live_server}/directory")
        await expect(count).to_have_text(EVERYONE)

        await page.get_by_label("Search").fill("Miami Beach")
        await page.get_by_role("button", name="Search").click()
        await expect(count).to_have_text("1 person matching “Miami Beach”")
        await expect(page.get_by_role("link", name="Sofía Castro")).to_be_visible()
        await expect(page.get_by_text("@sofia_yoga · Miami Beach")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / f"directory-{size}-place.png"), full_page=True)

        await page.get_by_role("link", name="Clear search").click()
        await expect(count).to_have_text(EVERYONE)
        await expect(page.get_by_label("Search")).to_have_value("")

        await page.get_by_label("Category").select_option(label="food (2)")
        await page.get_by_role("button", name="Search").click()
        await expect(count).to_have_text("2 people in food")
        await expect(page.get_by_role("link", name="Ana's Ventanita")).to_be_visible()
        await expect(page.get_by_text("@jeanbaptiste · Little Haiti, Miami")).to_be_visible()

        await page.get_by_label("Search").fill("wynwood")
        await page.get_by_role("button", name="Search").click()
        await expect(count).to_have_text("0 people matching “wynwood” in food")
        everywhere = page.get_by_role("link", name="Search “wynwood” in every category")
        await expect(everywhere).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / f"directory-{size}-empty.png"), full_page=True)
        await everywhere.click()
        await expect(count).to_have_text("2 people matching “wynwood”")

        await page.get_by_role("link", name="Clear search").click()
        await expect(count).to_have_text(EVERYONE)


def day(page: Page, name: str):
    return page.get_by_role("group", name=name, exact=True)


async def test_a_member_gives_the_same_hours_every_weekday(
    browser: Browser, live_server_settings: Settings, live_server: str
):
    page = await person(browser, live_server_settings, "hours", phone=True)
    for size, clock, friday in (("phone", "09:00 (24-hour)", "09:00"),
                                ("desktop", "9:00 AM (12-hour)", "9:00 AM")):
        await page.set_viewport_size(SIZES[size])
        monday, friday_opens = day(page, "Monday"), day(page, "Friday").get_by_label("Opens")
        sunday_closed = day(page, "Sunday").get_by_label("Closed")
        await monday.get_by_label("Opens").fill("9am")
        await monday.get_by_label("Closes").fill("5:30 pm")
        await page.get_by_label("Same hours every weekday").check()
        await expect(friday_opens).to_have_value("9am")  # copied as it is typed
        await sunday_closed.check()
        await page.get_by_label(clock).check()
        await page.get_by_role("button", name="Save profile").click()
        await expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
        await expect(friday_opens).to_have_value(friday)
        await expect(sunday_closed).to_be_checked()
        await page.screenshot(path=str(ARTIFACTS / f"hours-{size}.png"), full_page=True)
