import pytest

from tests.articles.factories import create_article, insert_published
from tests.fixtures.database import counted_statements
from tests.identity.factories import create_user, sign_in_as


async def slugs(client, **params) -> list[str]:
    response = await client.get("/api/articles", params=params)
    assert response.status_code == 200, response.text
    return [a["slug"] for a in response.json()["items"]]


class TestListing:
    async def test_the_public_sees_published_articles_newest_first(self, client, resources):
        author = await create_user(resources, screenname="ana")
        older = await create_article(resources, author, status="published", tags=["Food"])
        newer = await create_article(resources, author, status="published", tags=["music"])
        await create_article(resources, author)
        await create_article(resources, author, status="removed")
        assert await slugs(client) == [newer, older]
        assert await slugs(client, tag="FOOD") == [older]
        assert await slugs(client, author="ANA") == [newer, older]
        assert await slugs(client, author="nobody") == []

    async def test_author_also_finds_co_written_articles(self, client, resources):
        ana = await create_user(resources, screenname="ana")
        bea = await create_user(resources, screenname="bea")
        joint = await create_article(resources, ana, status="published", co_author_ids=[bea])
        await create_article(resources, ana, status="published")
        assert await slugs(client, author="bea") == [joint]

    async def test_mine_adds_my_drafts_and_needs_a_session(self, client, resources):
        me = await create_user(resources)
        someone = await create_user(resources)
        draft = await create_article(resources, me)
        co_written = await create_article(resources, someone, co_author_ids=[me])
        await create_article(resources, someone)
        await create_article(resources, me, status="removed")
        assert (await client.get("/api/articles", params={"mine": "true"})).status_code == 401
        await sign_in_as(client, resources, me)
        assert await slugs(client, mine="true") == [co_written, draft]
        assert await slugs(client) == []

    async def test_pages(self, client, resources):
        await insert_published(resources, 25, [await create_user(resources)])
        first = (await client.get("/api/articles", params={"pageSize": 10})).json()
        last = (await client.get("/api/articles", params={"pageSize": 10, "page": 3})).json()
        assert [a["slug"] for a in first["items"]][:2] == ["bulk-0024", "bulk-0023"]
        assert (first["hasMore"], last["hasMore"], len(last["items"])) == (True, False, 5)
        assert "body" not in first["items"][0]
        assert (await client.get("/api/articles",
                                 params={"pageSize": 101})).json()["fields"][0]["field"] == (
            "pageSize")


@pytest.mark.parametrize("page_size", [10, 100])
async def test_people_are_resolved_in_one_query_per_page(client, resources, connection,
                                                         page_size):
    authors = [await create_user(resources, screenname=f"writer{i}") for i in range(5)]
    co_author = await create_user(resources, name="Co")
    await insert_published(resources, page_size, [*authors, "deleted-author"], [co_author])
    with counted_statements(connection) as statements:
        response = await client.get("/api/articles", params={"pageSize": page_size})
    items = response.json()["items"]
    assert len(items) == page_size
    # One statement for the page's people, one for its likes.
    assert len(statements) == 2, statements
    assert all("= ANY" in statement for statement in statements)
    shown = {a["author"]["id"]: a["author"] for a in items}
    assert shown["deleted-author"] == {"id": "deleted-author", "screenname": None,
                                       "name": "Deleted user"}
    assert shown[authors[0]]["screenname"] == "writer0"
    assert all(a["coAuthors"] == [{"id": co_author, "screenname": None, "name": "Co"}]
               for a in items)
