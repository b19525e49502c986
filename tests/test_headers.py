"""Security headers on the answers of both services, and article images that do not track."""

import base64
import hashlib
import re

import pytest

from panamia.apps import main, pets
from panamia.articles.documents import Status
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, asgi_client
from tests.identity.factories import create_user

ANSWERS = [  # (path, what a browser asks for, what comes back)
    ("/", BROWSER, "text/html"),
    ("/signin", BROWSER, "text/html"),
    ("/nowhere", BROWSER, "text/html"),
    ("/api/auth/session", {}, "application/json"),
    ("/static/site.js", {}, "text/javascript"),
]


def policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def script_sources(csp: dict[str, list[str]]) -> list[str]:
    return csp.get("script-src", csp["default-src"])


@pytest.fixture
async def https_client(settings, resources):
    secure = settings.model_copy(update={"auth_url": "https://testserver"})
    async with asgi_client(main.create_app(secure, resources), "https://testserver") as client:
        yield client


class TestEveryAnswer:
    @pytest.mark.parametrize(("path", "headers", "media"), ANSWERS)
    async def test_carries_nosniff_and_the_referrer_policy(self, client, path, headers, media):
        answer = await client.get(path, headers=headers)
        assert answer.headers["content-type"].startswith(media)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"

    async def test_hsts_only_when_auth_url_is_https(self, client, https_client):
        assert "strict-transport-security" not in (await client.get("/health")).headers
        secure = await https_client.get("/health")
        assert secure.headers["strict-transport-security"] == "max-age=31536000"

    async def test_the_pets_sidecar_carries_them_too(self, settings, resources):
        async with asgi_client(pets.create_app(settings, resources)) as client:
            page = await client.get("/", headers=BROWSER)
        assert page.headers["x-content-type-options"] == "nosniff"
        assert policy(page.headers["content-security-policy"])["frame-ancestors"] == ["'none'"]


class TestPagePolicy:
    @pytest.mark.parametrize("path", ["/", "/signin", "/nowhere"])
    async def test_only_this_origins_scripts_and_images_and_no_framing(self, client, path):
        page = await client.get(path, headers=BROWSER)
        csp = policy(page.headers["content-security-policy"])
        assert script_sources(csp) == ["'self'"]
        assert csp.get("img-src", csp["default-src"]) == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]

    async def test_forms_may_post_to_both_services_only(self, client, settings):
        csp = policy((await client.get("/signin", headers=BROWSER)).headers[
            "content-security-policy"])
        assert sorted(csp["form-action"]) == sorted(["'self'", settings.auth_url,
                                                     settings.pets_url])

    async def test_pages_hold_no_inline_script_style_or_handler(self, client):
        """What the policy would block: every page script and style comes from /static."""
        for path in ("/", "/signin", "/articles", "/directory"):
            html = (await client.get(path, headers=BROWSER)).text
            assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", html), path


class TestApiDocsPolicy:
    @pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
    async def test_allows_exactly_its_own_inline_scripts_by_hash(self, client, path):
        page = await client.get(path)
        inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
        assert inline, "the page starts Swagger UI with an inline script"
        sources = script_sources(policy(page.headers["content-security-policy"]))
        assert "'unsafe-inline'" not in sources
        for script in inline:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in sources

    async def test_loads_swagger_ui_from_this_origin_and_no_cdn(self, client):
        page = await client.get("/docs")
        csp = policy(page.headers["content-security-policy"])
        assert [s for s in script_sources(csp) if not s.startswith("'sha256-")] == ["'self'"]
        assert not any("://" in source for sources in csp.values() for source in sources)
        assert csp["frame-ancestors"] == ["'none'"]
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            assert (await client.get(asset)).status_code == 200, asset

    async def test_redoc_is_not_served(self, client):
        assert (await client.get("/redoc")).status_code == 404


class TestArticleImages:
    async def test_a_remote_image_is_a_link_not_a_pixel(self, client, resources):
        author = await create_user(resources)
        body = "A street.\n\n![The corner at dawn](https://tracker.example/pixel.gif)"
        slug = await create_article(resources, author, title="Corners", body=body,
                                    status=Status.PUBLISHED)
        page = (await client.get(f"/articles/{slug}", headers=BROWSER)).text
        prose = page[page.index('<div class="prose">'):]
        assert "<img" not in prose
        assert ('<a href="https://tracker.example/pixel.gif" rel="noopener noreferrer nofollow">'
                "Image: The corner at dawn</a>") in prose
