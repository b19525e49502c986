"""Liking articles: counts on the article and in lists, idempotency, who is told, what may be
liked, and likes going with a removed article."""

from panamia.articles.documents import Status
from panamia.outbox import relay
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as


async def reader(client, resources, screenname: str = "jean") -> tuple[str, dict]:
    user_id = await create_user(resources, screenname=screenname, name=screenname.title())
    await sign_in_as(client, resources, user_id)
    return user_id, await csrf_headers(client)


class TestLike:
    async def test_a_like_counts_once_and_tells_each_writer_once(self, client, resources):
        author = await create_user(resources, screenname="ana")
        co_author = await create_user(resources, screenname="co")
        slug = await create_article(resources, author, status=Status.PUBLISHED,
                                    co_author_ids=[co_author], title="Cafecito")
        await relay.drain(resources)
        jean, csrf = await reader(client, resources)
        for _ in range(2):
            liked = await client.put(f"/api/articles/{slug}/like", headers=csrf)
            assert liked.status_code == 200, liked.text
            assert liked.json() == {"likes": 1, "likedByYou": True}
        article = (await client.get(f"/api/articles/{slug}")).json()
        assert (article["likes"], article["likedByYou"]) == (1, True)
        listed = (await client.get("/api/articles")).json()["items"]
        assert [(a["slug"], a["likes"]) for a in listed] == [(slug, 1)]

        await relay.drain(resources)
        for writer in (author, co_author):
            await sign_in_as(client, resources, writer)
            likes = [n for n in (await client.get("/api/notifications")).json()["items"]
                     if n["type"] == "Like"]
            assert [(n["actorId"], n["object"]["summary"]) for n in likes] == [
                (jean, "Cafecito")]

    async def test_unlike_is_idempotent_and_signed_out_readers_see_the_count(
        self, client, resources
    ):
        author = await create_user(resources)
        slug = await create_article(resources, author, status=Status.PUBLISHED)
        _, csrf = await reader(client, resources)
        await client.put(f"/api/articles/{slug}/like", headers=csrf)
        for _ in range(2):
            left = await client.delete(f"/api/articles/{slug}/like", headers=csrf)
            assert left.json() == {"likes": 0, "likedByYou": False}
        await client.put(f"/api/articles/{slug}/like", headers=csrf)
        client.cookies.clear()
        assert (await client.get(f"/api/articles/{slug}/likes")).json() == {
            "likes": 1, "likedByYou": False}
        refused = await client.put(f"/api/articles/{slug}/like",
                                   headers=await csrf_headers(client))
        assert refused.status_code == 401

    async def test_liking_your_own_article_tells_nobody(self, client, resources):
        author, csrf = await reader(client, resources, "ana")
        slug = await create_article(resources, author, status=Status.PUBLISHED)
        await relay.drain(resources)
        assert (await client.put(f"/api/articles/{slug}/like", headers=csrf)).json()["likes"] == 1
        await relay.drain(resources)
        assert (await client.get("/api/notifications")).json()["items"] == []

    async def test_drafts_cannot_be_liked_and_unknown_articles_are_404(self, client, resources):
        author, csrf = await reader(client, resources, "ana")
        draft = await create_article(resources, author)
        refused = await client.put(f"/api/articles/{draft}/like", headers=csrf)
        assert refused.status_code == 409
        assert refused.json()["detail"] == "Only a published article can be liked."
        _, csrf = await reader(client, resources, "jean")
        for path in (f"/api/articles/{draft}/like", "/api/articles/nothing-here/like"):
            assert (await client.put(path, headers=csrf)).status_code == 404

    async def test_removing_an_article_takes_its_likes(self, client, resources):
        author = await create_user(resources)
        slug = await create_article(resources, author, status=Status.PUBLISHED)
        _, csrf = await reader(client, resources)
        await client.put(f"/api/articles/{slug}/like", headers=csrf)
        await sign_in_as(client, resources, author)
        removed = await client.delete(f"/api/articles/{slug}", headers=await csrf_headers(client))
        assert removed.status_code == 204
        admin = await create_user(resources, role="admin")
        await sign_in_as(client, resources, admin)
        await client.post(f"/api/articles/{slug}/restore", headers=await csrf_headers(client))
        assert (await client.get(f"/api/articles/{slug}/likes")).json()["likes"] == 0


class TestPages:
    async def test_like_and_unlike_from_the_article_page(self, client, resources):
        author = await create_user(resources)
        slug = await create_article(resources, author, status=Status.PUBLISHED)
        await reader(client, resources)
        liked = await submit(client, f"/articles/{slug}/like", {}, page=f"/articles/{slug}")
        assert liked.status_code == 303
        page = text_of((await client.get(f"/articles/{slug}", headers=BROWSER)).text)
        assert "1 like Unlike" in page
        assert "1 like" in text_of((await client.get("/articles", headers=BROWSER)).text)
        await submit(client, f"/articles/{slug}/unlike", {}, page=f"/articles/{slug}")
        assert "0 likes Like" in text_of(
            (await client.get(f"/articles/{slug}", headers=BROWSER)).text)
