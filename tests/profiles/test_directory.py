from tests.fixtures.database import counted_statements
from tests.identity.factories import create_user
from tests.profiles.factories import create_member


class TestPublicProfile:
    async def test_an_active_profile_is_public_by_screenname_without_email(
        self, client, resources
    ):
        user_id = await create_member(resources, screenname="luna", name="Luna",
                                      bio="Coffee", active=True)
        response = await client.get("/api/profiles/LUNA")
        assert response.status_code == 200
        body = response.json()
        assert (body["userId"], body["screenname"], body["bio"]) == (user_id, "luna", "Coffee")
        assert "email" not in body

    async def test_unknown_or_inactive_is_404_with_a_message(self, client, resources):
        await create_member(resources, screenname="hidden", active=False)
        await create_user(resources, screenname="noprofile")
        for name in ("hidden", "noprofile", "nobody"):
            response = await client.get(f"/api/profiles/{name}")
            assert response.status_code == 404
            assert response.json() == {"error": "profile not found",
                                       "detail": f"No public profile is named {name!r}."}


async def names(client, **params) -> list[str]:
    response = await client.get("/api/directory", params=params)
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


class TestDirectory:
    async def test_search_matches_word_starts_in_name_bio_and_categories(
        self, client, resources
    ):
        await create_member(resources, name="Café Luna", bio="Espresso bar", active=True,
                            categories=["Coffee"])
        await create_member(resources, name="Ritmo", bio="Live MUSIC nights", active=True,
                            categories=["music", "events"])
        await create_member(resources, name="Quiet Café", bio="Closed for now", active=False)
        assert await names(client, q="cafe") == ["Café Luna"]
        assert await names(client, q="Espr") == ["Café Luna"]
        assert await names(client, q="music") == ["Ritmo"]
        assert await names(client, q="coffee") == ["Café Luna"]
        assert await names(client, q="live nights") == ["Ritmo"]
        assert await names(client, q="live coffee") == []
        assert await names(client, q="spresso") == []
        assert await names(client, q="(a+)+$ .*") == []

    async def test_category_filters_exactly(self, client, resources):
        await create_member(resources, name="Ritmo", active=True, categories=["music"])
        await create_member(resources, name="Luna", active=True, categories=["coffee"])
        assert await names(client, category=" Music ") == ["Ritmo"]
        assert await names(client, category="mus") == []
        assert await names(client, q="luna", category="music") == []

    async def test_pages_of_twenty_with_screennames_from_one_query(
        self, client, resources, connection
    ):
        for i in range(25):
            await create_member(resources, name=f"Member {i:02}", screenname=f"member{i:02}",
                                active=True)
        with counted_statements(connection) as statements:
            first = (await client.get("/api/directory")).json()
        second = (await client.get("/api/directory", params={"page": 2})).json()
        assert len(statements) == 1, statements
        assert "ANY" in statements[0]
        assert (len(first["items"]), first["page"], first["hasMore"]) == (20, 1, True)
        assert (len(second["items"]), second["page"], second["hasMore"]) == (5, 2, False)
        assert [p["screenname"] for p in first["items"]][:2] == ["member00", "member01"]
        assert [p["name"] for p in second["items"]][-1] == "Member 24"
        assert all("email" not in p for p in first["items"])

    async def test_a_profile_whose_account_is_gone_is_left_out(self, client, resources):
        await create_member(resources, name="Here", active=True)
        await resources.mongo.profiles.insert_one({"userId": "gone", "name": "Gone",
                                                   "active": True, "sortName": "gone"})
        assert await names(client) == ["Here"]
