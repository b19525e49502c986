"""Two Pana MIA servers on loopback, each its own process and databases, federating for
real: a member of one finds and follows a member of the other by handle, reads her articles
as they are published, edited and removed, and sees her go when she deletes her account."""


import httpx
import pytest

from tests.fixtures.federation import federating, until

ACTIVITY_JSON = {"Accept": "application/activity+json"}


@pytest.fixture
async def servers(settings, mongo_client, tmp_path):
    base = settings.model_copy(update={"smtp_url": None})
    async with federating(base, mongo_client, tmp_path) as started:
        yield started


async def test_follow_read_edit_remove_and_account_deletion(servers):
    one, two = servers
    ana_id, ana_headers = await one.member("ana", "Ana Rivera")
    _, ben_headers = await two.member("ben", "Ben Ortiz")
    ana = httpx.AsyncClient(base_url=one.url, headers=ana_headers)
    ben = httpx.AsyncClient(base_url=two.url, headers=ben_headers)
    async with ana, ben:
        followed = await ben.post("/api/federation/follows",
                                  json={"handle": f"@ana@{one.host}"})
        assert followed.status_code == 201, followed.text
        assert followed.json()["state"] == "pending"
        assert followed.json()["name"] == "Ana Rivera"

        async def accepted():
            """ana's server accepted ben's follow"""
            listed = (await ben.get("/api/federation/follows")).json()
            return listed and listed[0]["state"] == "accepted"

        await until(accepted)

        draft = await ana.post("/api/articles", json={
            "title": "Calle Ocho at dawn", "excerpt": "Before the crowds",
            "body": "The *bakeries* open first."})
        slug = draft.json()["slug"]
        assert (await ana.post(f"/api/articles/{slug}/publish")).status_code == 200

        async def feed():
            """the article reached ben's list"""
            return (await ben.get("/api/federation/feed")).json()

        arrived = (await until(feed))[0]
        assert arrived["name"] == "Calle Ocho at dawn"
        assert "<em>bakeries</em>" in arrived["contentHtml"]
        assert arrived["author"] == "Ana Rivera"
        assert arrived["url"] == f"{one.url}/articles/{slug}"
        page = await ben.get("/federation")
        assert "Calle Ocho at dawn" in page.text and "Ana Rivera" in page.text

        edited = await ana.patch(f"/api/articles/{slug}", json={"title": "Calle Ocho at six"})
        assert edited.status_code == 200

        async def edit_arrived():
            """the edit reached ben's list"""
            return [a for a in await feed() if a["name"] == "Calle Ocho at six"]

        await until(edit_arrived)

        assert (await ana.delete(f"/api/articles/{slug}")).status_code == 204

        async def removed():
            """the removal reached ben's list"""
            return await feed() == []

        await until(removed)
        async with httpx.AsyncClient(headers=ACTIVITY_JSON) as fediverse:
            tombstone = await fediverse.get(f"{one.url}/articles/{slug}")
            assert tombstone.status_code == 410
            assert tombstone.json()["type"] == "Tombstone"
            assert tombstone.json()["id"] == f"{one.url}/articles/{slug}"

            assert (await ana.delete("/api/account")).status_code == 204

            async def gone():
                """ana's deletion reached ben's server"""
                return (await ben.get("/api/federation/follows")).json() == []

            await until(gone)
            actor = await fediverse.get(f"{one.url}/ap/users/{ana_id}")
            assert actor.status_code == 410
