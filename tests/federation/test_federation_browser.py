"""Federation in Debian's Chromium against the main app served as `panamia dev` runs it, at a
desktop and a phone size: a member's page for following people elsewhere (a handle typed
wrong is explained next to the field; the followers preference is saved), and an article
showing its likes and replies from another server."""

import uuid
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect

from panamia.articles import repository as article_repository
from panamia.articles.documents import Status
from panamia.federation.models import RemoteActor, RemoteComment, RemoteInteraction
from panamia.resources import Resources
from tests.articles.factories import create_article
from tests.fixtures.browser import ARTIFACTS, SIZES, signed_in_page
from tests.fixtures.http import signed_in_cookies
from tests.profiles.factories import create_member


async def seed(resources: Resources, suffix: str) -> tuple[str, dict]:
    """A member's published article with a like and a reply from another server."""
    ana = await create_member(resources, screenname=f"ana_{suffix}", name="Ana", active=True)
    slug = await create_article(resources, ana, status=Status.PUBLISHED,
                                title=f"Coconut Grove {suffix}")
    article_id = str((await article_repository.find_by_slug(resources.mongo, slug))["_id"])
    uri = f"https://social.example/users/bob{suffix}"
    async with resources.db.begin() as session:
        bob = RemoteActor(uri=uri, type="Person", inbox=f"{uri}/inbox",
                          public_key_id=f"{uri}#main-key", public_key_pem="-",
                          preferred_username=f"bob{suffix}", domain="social.example",
                          name="Bob Remote", url=f"https://social.example/@bob{suffix}")
        session.add(bob)
        await session.flush()
        session.add(RemoteInteraction(actor_id=bob.id, article_id=article_id, type="Like",
                                      activity_id=f"{uri}/likes/1"))
        session.add(RemoteComment(uri=f"{uri}/notes/1", actor_id=bob.id, article_id=article_id,
                                  content_html="<p>What a <strong>walk</strong>!</p>",
                                  published=datetime.now(UTC)))
    cookies, _ = await signed_in_cookies(resources, ana)
    return slug, cookies


@pytest.mark.parametrize("size", SIZES)
async def test_following_elsewhere_and_replies_from_elsewhere(
    browser: Browser, live_server: str, live_server_settings, size
):
    resources = Resources.open(live_server_settings, "tests")
    try:
        suffix = uuid.uuid4().hex[:6]
        slug, cookies = await seed(resources, suffix)
    finally:
        await resources.close()

    async with signed_in_page(browser, live_server, cookies, size) as page:
        screenname = f"ana_{suffix}"

        await page.goto(f"{live_server}/people/{screenname}")
        host = live_server.removeprefix("http://")
        await expect(page.locator(".fediverse-handle")).to_contain_text(
            f"On Mastodon and the fediverse: @{screenname}@{host}")
        await page.get_by_role("link", name="Follow people elsewhere").click()
        await expect(page.get_by_role("heading", name="Follow people elsewhere")).to_be_visible()
        await page.get_by_label("Their handle").fill("bob at social")
        await page.get_by_role("button", name="Follow", exact=True).click()
        await expect(page.locator("#handle-error")).to_have_text(
            "Write the handle as @name@example.social.")
        await expect(page.get_by_label("Their handle")).to_have_value("bob at social")

        await page.get_by_label("Approve each follower").check()
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_contain_text("wait for your approval")
        await expect(page.get_by_label("Approve each follower")).to_be_checked()
        await page.screenshot(path=str(ARTIFACTS / f"federation-{size}.png"), full_page=True)

        await page.goto(f"{live_server}/articles/{slug}")
        await expect(page.locator(".remote-reactions")).to_have_text(
            "From other servers: 1 like, 0 boosts")
        replies = page.get_by_role("region", name="Replies from other servers")
        await expect(replies).to_contain_text("What a walk!")
        await expect(replies.get_by_role("link", name="Bob Remote")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / f"federation-article-{size}.png"),
                              full_page=True)
