from dataclasses import replace

import pytest
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from panamia.apps import main
from panamia.notifications.schemas import ACTIVITY, Follow
from tests.fixtures.http import asgi_client
from tests.fixtures.servers import free_port
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.notifications.factories import delivered, like


class TestActivities:
    def test_the_type_picks_the_model_and_its_rules(self):
        follow = ACTIVITY.validate_python({
            "type": "Follow", "actorId": "a", "targetId": "b",
            "object": {"type": "Person", "id": "b"},
        })
        assert isinstance(follow, Follow)
        with pytest.raises(ValidationError, match="a Follow needs an actorId"):
            ACTIVITY.validate_python({"type": "Follow", "targetId": "b",
                                      "object": {"type": "Person", "id": "b"}})
        with pytest.raises(ValidationError, match="a Like cannot be about a Booking"):
            ACTIVITY.validate_python({"type": "Like", "actorId": "a", "targetId": "b",
                                      "object": {"type": "Booking", "id": "x"}})
        with pytest.raises(ValidationError, match="union_tag_invalid"):
            ACTIVITY.validate_python({"type": "Poke", "targetId": "b",
                                      "object": {"type": "Note", "id": "x"}})

    def test_the_system_may_announce_without_an_actor(self):
        announce = ACTIVITY.validate_python({"type": "Announce", "targetId": "b",
                                             "object": {"type": "Note", "id": "n"}})
        assert announce.actor_id is None


class TestListing:
    async def test_newest_first_twenty_a_page(self, client, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        ids = await delivered(resources, *[like(ana, ben, id=f"a{i}") for i in range(23)])
        await sign_in_as(client, resources, ana)

        first = (await client.get("/api/notifications")).json()
        second = (await client.get("/api/notifications", params={"page": 2})).json()

        assert (len(first["items"]), first["hasMore"], first["pageSize"]) == (20, True, 20)
        assert (len(second["items"]), second["hasMore"]) == (3, False)
        listed = [n["id"] for n in first["items"] + second["items"]]
        assert sorted(listed) == sorted(ids)
        stamps = [n["createdAt"] for n in first["items"] + second["items"]]
        assert stamps == sorted(stamps, reverse=True)
        item = first["items"][0]
        assert (item["type"], item["actorId"], item["targetId"], item["read"]) == (
            "Like", ben, ana, False)
        assert item["object"] == {"type": "Article", "id": item["object"]["id"], "url": None,
                                  "summary": "A post"}

    async def test_only_the_recipient_sees_them(self, client, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        await delivered(resources, like(ana, ben))
        await sign_in_as(client, resources, ben)
        assert (await client.get("/api/notifications")).json()["items"] == []
        assert (await client.get("/api/notifications/unread-count")).json() == {"count": 0}

    async def test_signed_out_is_401(self, client):
        assert (await client.get("/api/notifications")).status_code == 401


class TestReading:
    async def test_mark_one_read_then_only_unread_are_listed(self, client, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        first, second = await delivered(resources, like(ana, ben), like(ana, ben, id="a2"))
        await sign_in_as(client, resources, ana)
        headers = await csrf_headers(client)
        assert (await client.get("/api/notifications/unread-count")).json() == {"count": 2}

        response = await client.post(f"/api/notifications/{first}/read", headers=headers)

        assert response.status_code == 200
        assert response.json()["read"] is True and response.json()["readAt"]
        unread = (await client.get("/api/notifications", params={"unread": "true"})).json()
        assert [n["id"] for n in unread["items"]] == [second]
        assert (await client.get("/api/notifications/unread-count")).json() == {"count": 1}
        again = await client.post(f"/api/notifications/{first}/read", headers=headers)
        assert again.json()["readAt"] == response.json()["readAt"]

    async def test_another_users_notification_is_404(self, client, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        (notification_id,) = await delivered(resources, like(ana, ben))
        await sign_in_as(client, resources, ben)
        headers = await csrf_headers(client)

        response = await client.post(f"/api/notifications/{notification_id}/read",
                                     headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not found"
        marked = await client.post("/api/notifications/mark-all-read", headers=headers)
        assert marked.json() == {"marked": 0}

        await sign_in_as(client, resources, ana)
        assert (await client.get("/api/notifications/unread-count")).json() == {"count": 1}

    async def test_mark_all_read(self, client, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        await delivered(resources, like(ana, ben), like(ana, ben, id="a2"), like(ben, ana))
        await sign_in_as(client, resources, ana)
        headers = await csrf_headers(client)

        assert (await client.post("/api/notifications/mark-all-read", headers=headers)).json() \
            == {"marked": 2}
        assert (await client.get("/api/notifications/unread-count")).json() == {"count": 0}
        assert (await client.post("/api/notifications/mark-all-read", headers=headers)).json() \
            == {"marked": 0}
        await sign_in_as(client, resources, ben)
        assert (await client.get("/api/notifications/unread-count")).json() == {"count": 1}

    async def test_marking_needs_the_csrf_token(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        assert (await client.post("/api/notifications/mark-all-read")).status_code == 403


async def test_mongodb_down_is_503(settings, resources):
    unreachable = AsyncMongoClient(f"mongodb://127.0.0.1:{free_port()}",
                                   serverSelectionTimeoutMS=300)
    broken = replace(resources, mongo=unreachable["panamia"])
    async with asgi_client(main.create_app(settings, broken)) as client:
        await sign_in_as(client, resources, await create_user(resources))
        response = await client.get("/api/notifications/unread-count")
    await unreachable.close()
    assert response.status_code == 503
    assert response.json()["error"] == "MongoDB is unavailable"
