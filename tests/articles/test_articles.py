from panamia.articles.documents import slugify
from tests.articles.factories import create_article
from tests.identity.factories import create_user, csrf_headers, sign_in_as


async def as_writer(client, resources, **user) -> tuple[str, dict]:
    user_id = await create_user(resources, **user)
    await sign_in_as(client, resources, user_id)
    return user_id, await csrf_headers(client)


class TestCreate:
    async def test_the_writer_becomes_the_author_of_a_draft(self, client, resources):
        co_author = await create_user(resources, screenname="co", name="Co")
        author, csrf = await as_writer(client, resources, screenname="ana", name="Ana")
        response = await client.post("/api/articles", headers=csrf, json={
            "title": "¡Hola, Miami! Café & Música", "body": "# Hi", "excerpt": "Hello",
            "tags": ["Music", "music", "Food"], "coAuthorIds": [co_author],
        })
        assert response.status_code == 201, response.text
        article = response.json()
        assert article["slug"] == "hola-miami-cafe-musica"
        assert (article["status"], article["publishedAt"], article["tags"]) == (
            "draft", None, ["music", "food"])
        assert article["author"] == {"id": author, "screenname": "ana", "name": "Ana"}
        assert article["coAuthors"] == []
        assert article["invitedCoAuthors"] == [{"id": co_author, "screenname": "co",
                                                "name": "Co"}]
        assert (await client.get(f"/api/articles/{article['slug']}")).json() == article

    async def test_a_taken_derived_slug_gets_a_suffix_and_a_taken_given_one_is_409(
        self, client, resources
    ):
        _, csrf = await as_writer(client, resources)
        slugs = [(await client.post("/api/articles", headers=csrf,
                                    json={"title": "Same title"})).json()["slug"]
                 for _ in range(3)]
        assert slugs[0] == "same-title"
        assert len(set(slugs)) == 3
        assert all(s.startswith("same-title-") and len(s) == len("same-title-") + 6
                   for s in slugs[1:])
        given = await client.post("/api/articles", headers=csrf,
                                  json={"title": "Other", "slug": "same-title"})
        assert given.status_code == 409
        assert given.json()["error"] == "slug taken"

    async def test_bad_fields_are_named(self, client, resources):
        author, csrf = await as_writer(client, resources)
        response = await client.post("/api/articles", headers=csrf, json={
            "title": "", "slug": "Not A Slug", "body": "x" * 50_001,
            "tags": [f"t{i}" for i in range(11)],
        })
        assert response.status_code == 422
        assert {f["field"] for f in response.json()["fields"]} == {
            "title", "slug", "body", "tags"}
        for co_authors in (["nobody"], [author]):
            response = await client.post("/api/articles", headers=csrf,
                                         json={"title": "T", "coAuthorIds": co_authors})
            assert response.status_code == 422
            assert response.json()["fields"][0]["field"] == "coAuthorIds"

    async def test_signed_out_is_401(self, client):
        csrf = await csrf_headers(client)
        response = await client.post("/api/articles", headers=csrf, json={"title": "T"})
        assert response.status_code == 401

    def test_slugs_are_ascii_and_never_empty(self):
        assert slugify("  Ñandú -- 2026!  ") == "nandu-2026"
        assert slugify("日本語") == "article"
        assert len(slugify("word " * 50)) <= 80


class TestLifecycle:
    async def test_edit_publish_remove_restore(self, client, resources, connection):
        author, csrf = await as_writer(client, resources)
        slug = await create_article(resources, author, title="Draft", tags=["a"])

        edited = await client.patch(f"/api/articles/{slug}", headers=csrf,
                                    json={"title": "Final", "body": "**done**"})
        assert (edited.json()["title"], edited.json()["body"], edited.json()["tags"]) == (
            "Final", "**done**", ["a"])
        assert edited.json()["slug"] == slug

        published = (await client.post(f"/api/articles/{slug}/publish", headers=csrf)).json()
        assert published["status"] == "published" and published["publishedAt"]
        again = (await client.post(f"/api/articles/{slug}/publish", headers=csrf)).json()
        assert again["publishedAt"] == published["publishedAt"]

        assert (await client.delete(f"/api/articles/{slug}", headers=csrf)).status_code == 204
        assert (await client.get(f"/api/articles/{slug}")).status_code == 404

        admin = await create_user(resources, email="admin@example.org")
        await sign_in_as(client, resources, admin)
        removed = (await client.get(f"/api/articles/{slug}")).json()
        assert (removed["status"], bool(removed["removedAt"])) == ("removed", True)
        restored = await client.post(f"/api/articles/{slug}/restore", headers=csrf)
        assert (restored.json()["status"], restored.json()["removedAt"]) == ("published", None)
        assert (await client.post(f"/api/articles/{slug}/restore",
                                  headers=csrf)).status_code == 409

    async def test_a_removed_draft_is_restored_as_a_draft(self, client, resources):
        author = await create_user(resources)
        slug = await create_article(resources, author)
        await sign_in_as(client, resources, author)
        csrf = await csrf_headers(client)
        await client.delete(f"/api/articles/{slug}", headers=csrf)
        await sign_in_as(client, resources, await create_user(resources,
                                                              email="admin@example.org"))
        restored = await client.post(f"/api/articles/{slug}/restore", headers=csrf)
        assert restored.json()["status"] == "draft"

    async def test_a_deleted_author_shows_as_deleted_user(self, client, resources):
        author = await create_user(resources, screenname="gone")
        slug = await create_article(resources, author, status="published")
        await resources.mongo.articles.update_one({"slug": slug},
                                                  {"$set": {"authorId": "deleted-id"}})
        article = (await client.get(f"/api/articles/{slug}")).json()
        assert article["author"] == {"id": "deleted-id", "screenname": None,
                                     "name": "Deleted user"}
