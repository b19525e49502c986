from dataclasses import replace

from pymongo import AsyncMongoClient

from panamia.apps.main import create_app
from panamia.identity import people
from tests.fixtures.http import asgi_client
from tests.fixtures.servers import free_port
from tests.identity.factories import create_user, csrf_headers, sign_in_as

WEEK = {"open": "09:00", "close": "17:00", "closed": False}


async def signed_in(client, resources, **user) -> tuple[str, dict]:
    user_id = await create_user(resources, **user)
    await sign_in_as(client, resources, user_id)
    return user_id, await csrf_headers(client)


class TestGetProfile:
    async def test_the_first_access_creates_an_inactive_profile(self, client, resources):
        user_id, _ = await signed_in(client, resources, email="ana@example.org", name="Ana",
                                     screenname="ana")
        first = (await client.get("/api/profile")).json()
        assert first["user"] == {
            "id": user_id, "email": "ana@example.org", "name": "Ana", "image": None,
            "screenname": "ana", "role": "user", "isAdmin": False,
        }
        profile = first["profile"]
        assert (profile["userId"], profile["name"], profile["active"]) == (user_id, "Ana", False)
        assert set(profile["hours"].values()) == {None}
        again = (await client.get("/api/profile")).json()["profile"]
        assert again["createdAt"] == profile["createdAt"]
        assert await resources.mongo.profiles.count_documents({}) == 1

    async def test_signed_out_is_401(self, client):
        response = await client.get("/api/profile")
        assert response.status_code == 401

    async def test_mongodb_down_is_503_with_an_error(self, settings, resources, client):
        await signed_in(client, resources)
        unreachable = AsyncMongoClient(f"mongodb://127.0.0.1:{free_port()}",
                                       serverSelectionTimeoutMS=300)
        app = create_app(settings, replace(resources, mongo=unreachable["panamia"]))
        async with asgi_client(app) as broken:
            broken.cookies = client.cookies
            response = await broken.get("/api/profile")
        await unreachable.close()
        assert response.status_code == 503
        assert response.json()["error"] == "MongoDB is unavailable"


class TestPatchProfile:
    async def test_only_the_fields_given_change_and_nested_parts_merge(self, client, resources):
        _, csrf = await signed_in(client, resources)
        first = await client.patch("/api/profile", headers=csrf, json={
            "name": "Café Luna", "bio": "Coffee and music",
            "hours": {"monday": {"open": "09:00", "close": "17:00"}},
            "socialLinks": {"instagram": "https://instagram.com/luna",
                            "customLinks": [{"label": "Bandcamp", "url": "https://b.example"}]},
            "location": {"city": "Miami", "state": "FL", "zip": "33101", "lat": 25.77,
                         "lng": -80.19},
        })
        assert first.status_code == 200, first.text
        second = await client.patch("/api/profile", headers=csrf, json={
            "hours": {"tuesday": {"closed": True}},
            "socialLinks": {"instagram": None, "twitter": "https://x.com/luna",
                            "customLinks": []},
            "location": None,
        })
        assert second.status_code == 200, second.text
        profile = second.json()["profile"]
        assert (profile["name"], profile["bio"]) == ("Café Luna", "Coffee and music")
        assert profile["hours"]["monday"] == WEEK
        assert profile["hours"]["tuesday"] == {"open": None, "close": None, "closed": True}
        links = profile["socialLinks"]
        assert (links["instagram"], links["x"], links["customLinks"]) == (
            None, "https://x.com/luna", [])
        assert profile["location"] is None
        assert (await client.get("/api/profile")).json()["profile"] == profile

    async def test_the_profile_name_is_the_name_others_see(self, client, resources):
        """Articles, bookings, messages and notifications name people from their account: a
        member who signed in by email has none until they name their profile."""
        user_id, csrf = await signed_in(client, resources)
        response = await client.patch("/api/profile", headers=csrf, json={"name": "Nueva Ruiz"})
        assert response.json()["user"]["name"] == "Nueva Ruiz"
        assert (await people.people_by_id(resources, [user_id]))[user_id].name == "Nueva Ruiz"
        session = (await client.get("/api/auth/session")).json()
        assert session["user"]["name"] == "Nueva Ruiz"

    async def test_a_day_set_to_null_is_removed(self, client, resources):
        _, csrf = await signed_in(client, resources)
        await client.patch("/api/profile", headers=csrf,
                           json={"hours": {"monday": WEEK, "friday": WEEK}})
        response = await client.patch("/api/profile", headers=csrf,
                                      json={"hours": {"monday": None}})
        hours = response.json()["profile"]["hours"]
        assert (hours["monday"], hours["friday"]) == (None, WEEK)

    async def test_each_bad_field_is_named_and_nothing_is_saved(self, client, resources):
        _, csrf = await signed_in(client, resources)
        before = (await client.get("/api/profile")).json()["profile"]
        response = await client.patch("/api/profile", headers=csrf, json={
            "name": "Changed",
            "socialLinks": {"website": "not a url",
                            "customLinks": [{"label": "Shop", "url": "javascript:alert(1)"}]},
            "hours": {"monday": {"open": "25:00", "close": "17:00"},
                      "tuesday": {"open": "18:00", "close": "09:00"},
                      "funday": {"open": "09:00", "close": "10:00"}},
            "location": {"lat": 91, "lng": 0},
            "bio": None,
            "unknown": 1,
        })
        assert response.status_code == 422
        fields = {f["field"] for f in response.json()["fields"]}
        assert fields == {
            "socialLinks.website", "socialLinks.customLinks.0.url", "hours.monday.open",
            "hours.tuesday", "hours.funday", "location.lat", "bio", "unknown",
        }
        assert (await client.get("/api/profile")).json()["profile"] == before

    async def test_extra_is_free_form_but_bounded(self, client, resources):
        _, csrf = await signed_in(client, resources)
        fine = {"pronouns": {"theythem": True}, "fiveWords": "art, food, music",
                "counties": ["broward", "miami_dade"]}
        response = await client.patch("/api/profile", headers=csrf, json={"extra": fine})
        assert response.json()["profile"]["extra"] == fine
        for bad in ({"a": {"b": {"c": {"d": 1}}}}, {"$where": 1}, {"a.b": 1},
                    {f"k{i}": i for i in range(101)}, {"big": "x" * 17_000}):
            response = await client.patch("/api/profile", headers=csrf, json={"extra": bad})
            assert response.status_code == 422, bad
            assert response.json()["fields"][0]["field"] == "extra"

    async def test_a_profile_over_64_kib_is_refused_with_413(self, client, resources):
        _, csrf = await signed_in(client, resources)
        images = [{"url": f"https://img.example/{i}/" + "p" * 2000, "alt": "a" * 400}
                  for i in range(20)]
        assert (await client.patch("/api/profile", headers=csrf,
                                   json={"images": images})).status_code == 200
        response = await client.patch("/api/profile", headers=csrf,
                                      json={"bio": "🎶" * 5000, "extra": {"x": "y" * 15_000}})
        assert response.status_code == 413
        assert "64 KiB" in response.json()["detail"]
        assert (await client.get("/api/profile")).json()["profile"]["bio"] == ""
