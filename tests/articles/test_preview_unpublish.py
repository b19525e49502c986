"""Previewing an article's text without saving it, and unpublishing an article (back to a
draft its writers still see, gone for everyone else)."""

from panamia.articles.documents import Status
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as


class TestPreview:
    async def test_the_api_renders_the_text_safely_and_saves_nothing(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        csrf = await csrf_headers(client)
        shown = await client.post("/api/articles/preview", headers=csrf, json={
            "body": "**Café** <script>alert(1)</script>"})
        assert shown.status_code == 200, shown.text
        html = shown.json()["html"]
        assert "<strong>Café</strong>" in html and "<script>" not in html
        mine = (await client.get("/api/articles", params={"mine": "true"})).json()["items"]
        assert mine == []
        too_long = await client.post("/api/articles/preview", headers=csrf,
                                     json={"body": "x" * 50_001})
        assert too_long.status_code == 422

    async def test_the_form_shows_the_preview_and_keeps_what_was_typed(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        page = await submit(client, "/articles/new", {
            "title": "Ventanitas", "body": "# Cafecito\n\nA *strong* one.", "intent": "preview",
        }, page="/articles/new")
        assert page.status_code == 200
        assert "<h1>Cafecito</h1>" in page.text and "<em>strong</em>" in page.text
        assert 'value="Ventanitas"' in page.text
        assert "not saved yet" in text_of(page.text)
        mine = (await client.get("/api/articles", params={"mine": "true"})).json()["items"]
        assert mine == []

    async def test_previewing_an_edit_leaves_the_article_as_it_was(self, client, resources):
        author = await create_user(resources)
        slug = await create_article(resources, author, body="Before")
        await sign_in_as(client, resources, author)
        page = await submit(client, f"/articles/{slug}/edit", {
            "title": "Changed", "body": "After", "intent": "preview",
        }, page=f"/articles/{slug}/edit")
        assert "<p>After</p>" in page.text
        kept = (await client.get(f"/api/articles/{slug}")).json()
        assert (kept["title"] != "Changed", kept["body"]) == (True, "Before")


class TestUnpublish:
    async def test_it_disappears_for_others_and_stays_for_its_writers(self, client, resources):
        author = await create_user(resources)
        slug = await create_article(resources, author, status=Status.PUBLISHED)
        await sign_in_as(client, resources, author)
        csrf = await csrf_headers(client)
        for _ in range(2):  # unpublishing a draft changes nothing
            draft = await client.post(f"/api/articles/{slug}/unpublish", headers=csrf)
            assert draft.status_code == 200, draft.text
            assert (draft.json()["status"], draft.json()["publishedAt"]) == ("draft", None)
        assert (await client.get(f"/api/articles/{slug}")).status_code == 200

        client.cookies.clear()
        assert (await client.get(f"/api/articles/{slug}")).status_code == 404
        assert (await client.get("/api/articles")).json()["items"] == []
        assert (await client.get(f"/articles/{slug}", headers=BROWSER)).status_code == 404

    async def test_only_its_writers_may_unpublish(self, client, resources):
        slug = await create_article(resources, await create_user(resources),
                                    status=Status.PUBLISHED)
        await sign_in_as(client, resources, await create_user(resources))
        refused = await client.post(f"/api/articles/{slug}/unpublish",
                                    headers=await csrf_headers(client))
        assert refused.status_code == 403
        assert (await client.get(f"/api/articles/{slug}")).json()["status"] == "published"

    async def test_the_button_on_the_article_page(self, client, resources):
        author = await create_user(resources)
        slug = await create_article(resources, author, status=Status.PUBLISHED)
        await sign_in_as(client, resources, author)
        done = await submit(client, f"/articles/{slug}/unpublish", {}, page=f"/articles/{slug}")
        assert done.status_code == 303
        page = (await client.get(f"/articles/{slug}", headers=BROWSER)).text
        assert "This is a draft: only its writers can see it." in text_of(page)
        assert ">Publish</button>" in page and ">Unpublish</button>" not in page
