"""Follow a member from their profile and like their article, in Debian's Chromium against
the main app served as `panamia dev` runs it, at a desktop and a phone size."""

import uuid

import pytest
from playwright.async_api import Browser, expect

from panamia.articles.documents import Status
from panamia.resources import Resources
from tests.articles.factories import create_article
from tests.fixtures.browser import ARTIFACTS, SIZES, signed_in_page
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.profiles.factories import create_member


@pytest.mark.parametrize("size", SIZES)
async def test_follow_from_the_profile_then_like_the_article(
    browser: Browser, live_server: str, live_server_settings, size
):
    suffix = uuid.uuid4().hex[:6]
    screenname, title = f"ana_{suffix}", f"Cafecito {suffix}"
    resources = Resources.open(live_server_settings, "tests")
    try:
        ana = await create_member(resources, screenname=screenname, name="Ana", active=True)
        await create_article(resources, ana, status=Status.PUBLISHED, title=title)
        reader = await create_user(resources, screenname=f"jean_{suffix}", name="Jean")
        cookies, _ = await signed_in_cookies(resources, reader)
    finally:
        await resources.close()

    async with signed_in_page(browser, live_server, cookies, size) as page:
        await page.goto(f"{live_server}/people/{screenname}")
        await expect(page.locator(".followers-count")).to_have_text("0")
        await page.get_by_role("button", name="Follow", exact=True).click()
        await expect(page.get_by_role("status")).to_contain_text(f"You follow @{screenname} now.")
        await expect(page.locator(".followers-count")).to_have_text("1")
        await expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / f"social-profile-{size}.png"), full_page=True)

        await page.get_by_role("link", name=title).click()
        await expect(page.locator(".likes-count")).to_have_text("0")
        await page.get_by_role("button", name="Like", exact=True).click()
        await expect(page.get_by_role("status")).to_contain_text("You like this article.")
        await expect(page.locator(".likes-count")).to_have_text("1")
        await expect(page.get_by_role("button", name="Unlike")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / f"social-article-{size}.png"), full_page=True)
