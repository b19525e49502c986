"""A profile picture in Debian's Chromium against the main app served as `panamia dev` runs
it: a member uploads one through the form (no script needed) and sees it on their profile,
at a desktop size and a phone size. Pages are saved to test-artifacts/."""

import uuid

import httpx
from playwright.async_api import Browser, Page, expect

from panamia.resources import Resources
from panamia.settings import Settings
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.photos import factories

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def active_member(settings: Settings, screenname: str) -> dict[str, str]:
    """A member with a public profile; the cookies of their signed-in browser."""
    resources = Resources.open(settings, "tests")
    try:
        user_id = await create_user(resources, screenname=screenname, name="Luna Reyes")
        cookies, csrf = await signed_in_cookies(resources, user_id)
    finally:
        await resources.close()
    async with httpx.AsyncClient(base_url=settings.auth_url, cookies=cookies) as client:
        made = await client.patch("/api/profile", json={"active": True}, headers=csrf)
        assert made.status_code == 200, made.text
    return cookies


async def shown_picture(page: Page, alt: str):
    """The picture with `alt`, once the browser has loaded and decoded it."""
    picture = page.get_by_role("img", name=alt)
    await expect(picture).to_be_visible()
    await picture.evaluate("img => img.decode()")
    return picture


async def test_a_member_uploads_a_profile_picture_and_sees_it(
        browser: Browser, live_server: str, live_server_settings: Settings):
    screenname = f"luna_{uuid.uuid4().hex[:6]}"
    cookies = await active_member(live_server_settings, screenname)
    context = await browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    context.set_default_timeout(10_000)
    await context.add_cookies([{"name": name, "value": value, "url": live_server}
                               for name, value in cookies.items()])
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/account")
        await page.get_by_role("link", name="Add a profile picture").click()
        await expect(page.get_by_role("heading", name="Profile picture")).to_be_visible()
        await page.get_by_label("Photo", exact=True).set_input_files(
            {"name": "IMG_0001.JPG", "mimeType": "image/jpeg",
             "buffer": factories.camera_jpeg(1200, 900)})
        await page.get_by_label("Description").fill("Luna at her market stall")
        await page.screenshot(path=str(ARTIFACTS / "photos-form-desktop.png"))
        await page.get_by_role("button", name="Upload the photo").click()
        await expect(page).to_have_url(f"{live_server}/account")
        await expect(page.get_by_role("status")).to_contain_text("Your profile picture is saved.")

        await page.goto(f"{live_server}/people/{screenname}")
        picture = await shown_picture(page, "Luna at her market stall")
        box = await picture.bounding_box()
        assert (round(box["width"]), round(box["height"])) == (160, 160)
        # Upright: taken sideways (900 × 1200 once turned), so the narrowest file is 160 × 213.
        assert await picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [160, 213]
        await page.screenshot(path=str(ARTIFACTS / "photos-profile-desktop.png"))

        await page.set_viewport_size(PHONE)
        await page.reload()
        picture = await shown_picture(page, "Luna at her market stall")
        box = await picture.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        await page.screenshot(path=str(ARTIFACTS / "photos-profile-phone.png"), full_page=True)
    finally:
        await context.close()
