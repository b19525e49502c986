from dataclasses import replace

import pytest
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from panamia.apps import main
from panamia.notifications.schemas import ACTIVITY, ActivityObject, Follow, Offer, Update
from tests.fixtures.http import BROWSER, asgi_client, signed_in_member, text_of
from tests.fixtures.servers import free_port
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.notifications.factories import delivered, like
from tests.profiles.factories import create_member


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

    def test_a_sidecar_s_own_object_type_with_a_link_fits_a_deal_s_activities(self):
        bid = {"type": "Bid", "id": "b1", "url": "https://exchange.example/items/i1"}
        for kind in ("Create", "Update", "Offer", "Accept", "Reject"):
            activity = ACTIVITY.validate_python({"type": kind, "actorId": "a", "targetId": "b",
                                                 "object": bid})
            assert activity.object.from_sidecar
        with pytest.raises(ValidationError, match="a Like cannot be about a Bid"):
            ACTIVITY.validate_python({"type": "Like", "actorId": "a", "targetId": "b",
                                      "object": bid})

    @pytest.mark.parametrize("thing", [
        {"type": "Bid", "id": "b1"},
        {"type": "Bid", "id": "b1", "url": "javascript:alert(1)"},
        {"type": "bid", "id": "b1", "url": "https://exchange.example/b1"},
        {"type": "Bid<script>", "id": "b1", "url": "https://exchange.example/b1"},
        {"type": "A" + "a" * 40, "id": "b1", "url": "https://exchange.example/b1"},
        {"type": "Article", "id": "a1"},  # the platform's own, not in an Offer
    ])
    def test_anything_else_is_refused(self, thing):
        with pytest.raises(ValidationError):
            ACTIVITY.validate_python({"type": "Offer", "actorId": "a", "targetId": "b",
                                      "object": thing})

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
                                  "summary": "A post", "name": None, "status": None,
                                  "endTime": None}

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


class TestPage:
    async def test_a_sidecar_s_own_things_read_as_a_sentence_with_a_link(self, client, resources):
        actor = await create_member(resources, name="Ben")
        me = await signed_in_member(client, resources)
        bid = ActivityObject(type="Bid", id="b1", url="http://exchange.testserver/items/i1")
        claim = ActivityObject(type="RentalClaim", id="c1",
                               url="http://rentals.testserver/rentals/r1")
        offer, _ = await delivered(resources, Offer(actor_id=actor, target_id=me, object=bid),
                                   Update(actor_id=None, target_id=me, object=claim))

        page = (await client.get("/notifications", headers=BROWSER)).text
        shown = text_of(page)
        assert "Ben made an offer on your bid" in shown
        assert "Pana MIA updated your rental claim" in shown
        opens = await client.get(f"/notifications/{offer}/open")
        assert opens.headers["location"] == "/notifications"  # not a host of this platform
        link = f'<a href="/notifications/{offer}/open" class="notification-link">your bid</a>'
        assert link in page


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
