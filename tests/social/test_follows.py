"""Following members: the API, counts, idempotency, the database's refusals, notifications
and the public lists."""

from panamia.outbox import relay
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import csrf_headers, sign_in_as
from tests.profiles.factories import create_member


async def member(resources, screenname: str, *, public: bool = True) -> str:
    return await create_member(resources, screenname=screenname, name=screenname.title(),
                               active=public)


async def signed_in(client, resources, screenname: str, **kw) -> tuple[str, dict]:
    user_id = await member(resources, screenname, **kw)
    await sign_in_as(client, resources, user_id)
    return user_id, await csrf_headers(client)


class TestFollow:
    async def test_following_counts_once_and_tells_the_member_once(self, client, resources):
        ana = await member(resources, "ana")
        jean, csrf = await signed_in(client, resources, "jean")
        for _ in range(2):
            followed = await client.put("/api/people/ana/follow", headers=csrf)
            assert followed.status_code == 200, followed.text
            assert followed.json() == {"followers": 1, "following": 0, "followedByYou": True}
        mine = await client.get("/api/people/jean/follows")
        assert mine.json() == {"followers": 0, "following": 1, "followedByYou": False}

        await relay.drain(resources)
        await sign_in_as(client, resources, ana)
        notes = (await client.get("/api/notifications")).json()["items"]
        assert [(n["type"], n["actorId"]) for n in notes] == [("Follow", jean)]

    async def test_unfollowing_is_idempotent(self, client, resources):
        await member(resources, "ana")
        _, csrf = await signed_in(client, resources, "jean")
        await client.put("/api/people/ana/follow", headers=csrf)
        for _ in range(2):
            left = await client.delete("/api/people/ana/follow", headers=csrf)
            assert left.status_code == 200
            assert left.json() == {"followers": 0, "following": 0, "followedByYou": False}

    async def test_following_yourself_is_refused_plainly(self, client, resources):
        _, csrf = await signed_in(client, resources, "jean")
        refused = await client.put("/api/people/jean/follow", headers=csrf)
        assert refused.status_code == 422
        assert refused.json()["detail"] == "You cannot follow yourself."
        assert (await client.get("/api/people/jean/follows")).json()["followers"] == 0

    async def test_unknown_and_unlisted_members_are_404(self, client, resources):
        await member(resources, "hidden", public=False)
        _, csrf = await signed_in(client, resources, "jean")
        for name in ("nobody", "hidden"):
            for response in (await client.put(f"/api/people/{name}/follow", headers=csrf),
                             await client.get(f"/api/people/{name}/followers")):
                assert response.status_code == 404, response.text
                assert "No public profile" in response.json()["detail"]

    async def test_signed_out_cannot_follow(self, client, resources):
        await member(resources, "ana")
        csrf = await csrf_headers(client)
        assert (await client.put("/api/people/ana/follow", headers=csrf)).status_code == 401
        assert (await client.get("/api/people/ana/follows")).json()["followers"] == 0

    async def test_lists_show_only_members_with_public_profiles(self, client, resources):
        await member(resources, "ana")
        hidden = await member(resources, "hidden", public=False)
        for follower in ("bo", "cy"):
            await signed_in(client, resources, follower)
            await client.put("/api/people/ana/follow", headers=await csrf_headers(client))
        await sign_in_as(client, resources, hidden)
        await client.put("/api/people/ana/follow", headers=await csrf_headers(client))

        followers = (await client.get("/api/people/ana/followers")).json()
        assert [p["screenname"] for p in followers["items"]] == ["cy", "bo"]
        assert (await client.get("/api/people/ana/follows")).json()["followers"] == 3
        following = (await client.get("/api/people/bo/following")).json()
        assert [p["screenname"] for p in following["items"]] == ["ana"]


class TestPages:
    async def test_follow_and_unfollow_from_the_profile_without_javascript(
        self, client, resources
    ):
        await member(resources, "ana")
        await signed_in(client, resources, "jean")
        followed = await submit(client, "/people/ana/follow", {}, page="/people/ana")
        assert followed.status_code == 303
        page = await client.get("/people/ana", headers=BROWSER)
        assert "1 follower" in text_of(page.text)
        assert "Unfollow" in page.text

        await submit(client, "/people/ana/unfollow", {}, page="/people/ana")
        page = await client.get("/people/ana", headers=BROWSER)
        assert "0 followers" in text_of(page.text)

        followers = await client.get("/people/ana/followers", headers=BROWSER)
        assert followers.status_code == 200
        assert "Nobody to show yet" in text_of(followers.text)

    async def test_following_yourself_from_a_page_says_why(self, client, resources):
        await signed_in(client, resources, "jean")
        refused = await submit(client, "/people/jean/follow", {}, page="/people/jean")
        assert refused.status_code == 422
        assert "You cannot follow yourself." in text_of(refused.text)
