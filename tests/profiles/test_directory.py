from datetime import UTC, datetime, timedelta

from panamia.profiles import service
from panamia.profiles.schemas import ProfilePatch
from panamia.schema import mongo_steps
from tests.fixtures.database import counted_statements
from tests.identity.factories import create_user
from tests.profiles.factories import create_member, principal


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


async def search(client, **params) -> dict:
    response = await client.get("/api/directory", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def names(client, **params) -> list[str]:
    return [p["name"] for p in (await search(client, **params))["items"]]


def place(city: str, neighborhood: str | None = None) -> dict:
    return {"city": city, "state": "FL", "neighborhood": neighborhood}


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


class TestSearchByPlaceAndScreenname:
    async def test_a_city_or_neighborhood_finds_the_people_there(self, client, resources):
        await create_member(resources, name="Sofía", location=place("Miami Beach"), active=True)
        await create_member(resources, name="Marco", location=place("Miami", "Little Havana"),
                            active=True)
        await create_member(resources, name="Ana", location=place("Hialeah"), active=True)
        assert await names(client, q="Miami") == ["Marco", "Sofía"]
        assert await names(client, q="miami beach") == ["Sofía"]
        assert await names(client, q="MIAMI BEACH") == ["Sofía"]
        assert await names(client, q="little havana") == ["Marco"]
        assert await names(client, q="Havana Marco") == ["Marco"]
        assert await names(client, q="beach havana") == []

    async def test_a_screenname_finds_its_owner(self, client, resources):
        await create_member(resources, screenname="sofia_yoga", name="Sofía Reyes",
                            categories=["yoga"], active=True)
        await create_member(resources, screenname="yogaplace", name="Other", active=True)
        assert await names(client, q="sofia_yoga") == ["Sofía Reyes"]
        assert await names(client, q="@Sofia_Yoga") == ["Sofía Reyes"]
        assert await names(client, q="sofia_yoga yoga") == ["Sofía Reyes"]
        assert await names(client, q="yogaplace") == ["Other"]

    async def test_a_moved_member_is_found_in_the_new_place_only(self, client, resources):
        user_id = await create_member(resources, name="Lía", location=place("Doral"),
                                      active=True)
        await service.update_profile(resources, principal(user_id),
                                     ProfilePatch(location=place("Coral Gables")))
        assert await names(client, q="coral gables") == ["Lía"]
        assert await names(client, q="doral") == []


class TestCountsAndSorting:
    async def test_the_count_covers_every_page_and_the_picker_counts_categories(
        self, client, resources, monkeypatch
    ):
        monkeypatch.setattr(service, "DIRECTORY_PAGE_SIZE", 2)
        for name, categories in (("Uno", ["Coffee", "food"]), ("Dos", ["coffee"]),
                                 ("Tres", ["coffee", "music"]), ("Cuatro", ["music"])):
            await create_member(resources, name=name, categories=categories, active=True)
        await create_member(resources, name="Hidden", categories=["coffee"], active=False)
        found = await search(client, category="coffee")
        assert (found["total"], found["totalCapped"], len(found["items"])) == (3, False, 2)
        assert (await search(client, q="nobody"))["total"] == 0
        response = await client.get("/api/directory/categories")
        assert response.json() == [{"name": "coffee", "count": 3}, {"name": "music", "count": 2},
                                   {"name": "food", "count": 1}]

    async def test_newest_first_or_by_name_page_after_page(self, client, resources):
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for day, name in enumerate(["Beto", "Ana", "Carla"]):
            user_id = await create_member(resources, name=name, active=True)
            await resources.mongo.profiles.update_one(
                {"userId": user_id}, {"$set": {"createdAt": start + timedelta(days=day)}})
        assert await names(client) == ["Ana", "Beto", "Carla"]
        assert await names(client, sort="newest") == ["Carla", "Ana", "Beto"]
        response = await client.get("/api/directory", params={"sort": "oldest"})
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "sort"


class TestPlaceStep:
    async def test_profiles_stored_before_places_were_searched_are_found_after_it(
        self, client, resources
    ):
        user_id = await create_member(resources, name="Old Timer", location=place("Miami Beach"),
                                      active=True)
        await resources.mongo.profiles.update_one(
            {"userId": user_id}, {"$set": {"searchWords": ["old", "timer"]}})
        assert await names(client, q="miami") == []
        step = next(s for s in mongo_steps.step_files() if "search_profiles_by_place" in s.name)
        apply = mongo_steps.load_apply(step)
        await apply(resources.mongo)
        await apply(resources.mongo)  # a rerun changes nothing
        assert await names(client, q="miami beach") == ["Old Timer"]
        assert await names(client, q="timer") == ["Old Timer"]
