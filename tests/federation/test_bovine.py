"""panamia against an independent ActivityPub implementation: bovine (bovine-herd from PyPI),
served for real on loopback from its own venv (tests/fixtures/bovine.py).

Nothing on bovine's side is written to agree with panamia: its actor finds our member with its
own WebFinger client, follows her through its own outbox, and keeps in its inbox only what its
own HTTP-signature check accepted (draft-cavage with (request-target), host, date and a signed
digest, within 5 minutes). Its signed Follow, Like, Announce, reply and Undo reach our inbox,
which must verify them to act on them.
"""


import httpx
import pytest

from tests.fixtures.bovine import BovinePeer, bovine_peer, bovine_python  # noqa: F401
from tests.fixtures.federation import ALLOW_PRIVATE, until
from tests.fixtures.served import browser_headers, served
from tests.identity.factories import create_user

ACTIVITY_JSON = {"Accept": "application/activity+json"}


@pytest.fixture
async def main_url(tmp_path, committed, committed_settings):
    """A served main app that may speak to servers on loopback over http (tests only)."""
    async with served("main", committed_settings, tmp_path, names=("main",),
                      extra_env=ALLOW_PRIVATE) as urls:
        yield urls[0]


@pytest.fixture
def peer(bovine_python, tmp_path):
    with bovine_peer(bovine_python, tmp_path / "bovine", "alice") as running:
        yield running


@pytest.fixture
async def ana(main_url, committed):
    """A member with a public profile, and the headers of her signed-in browser."""
    user_id = await create_user(committed, screenname="ana_writes", name="Ana Rivera")
    headers = await browser_headers(committed, user_id)
    async with httpx.AsyncClient(base_url=main_url, headers=headers) as client:
        answer = await client.patch("/api/profile", json={
            "name": "Ana Rivera", "bio": "Stories from Little Havana.", "active": True})
        assert answer.status_code == 200, answer.text
    return user_id, headers


def of_type(kind: str, inbox: list) -> list[dict]:
    return [item for item in inbox if item.get("type") == kind]


def object_of(activity: dict) -> dict:
    found = activity.get("object")
    return found if isinstance(found, dict) else {"id": found}


async def test_bovine_follows_our_member_and_reads_her_articles(
        main_url, peer: BovinePeer, ana):
    user_id, headers = ana
    host = main_url.removeprefix("http://")

    actor_id = peer.client("lookup", f"ana_writes@{host}")
    assert actor_id.startswith(main_url) and user_id in actor_id
    assert "ana_writes" not in actor_id  # stays when the screenname changes
    async with httpx.AsyncClient(headers=ACTIVITY_JSON) as fetch:
        actor = (await fetch.get(actor_id)).json()
    assert actor["preferredUsername"] == "ana_writes"
    assert actor["name"] == "Ana Rivera"

    follow = peer.client("follow", actor_id)
    assert follow["status"] == 201
    inbox = await peer.inbox_until(lambda items: of_type("Accept", items))
    accepted = object_of(of_type("Accept", inbox)[0])
    assert accepted["id"] == follow["id"]
    assert actor_id in peer.client("following")  # bovine took our Accept as the answer

    async def followers() -> int:
        """our followers collection counting bovine's actor"""
        async with httpx.AsyncClient(headers=ACTIVITY_JSON) as fetch:
            return (await fetch.get(actor["followers"])).json()["totalItems"] == 1
    await until(followers)

    async with httpx.AsyncClient(base_url=main_url, headers=headers) as client:
        draft = await client.post("/api/articles", json={
            "title": "Cafecito at the corner", "body": "The window on **8th Street**."})
        assert draft.status_code == 201, draft.text
        slug = draft.json()["slug"]
        assert (await client.post(f"/api/articles/{slug}/publish")).status_code == 200

    inbox = await peer.inbox_until(
        lambda items: any(object_of(a).get("type") == "Article" for a in of_type("Create", items)))
    created = next(object_of(a) for a in of_type("Create", inbox)
                   if object_of(a).get("type") == "Article")
    assert created["name"] == "Cafecito at the corner"
    assert "8th Street" in created["content"]
    article_id = created["id"]

    # bovine's own signed activities about the article, through its outbox to our inbox.
    assert peer.client("like", article_id)["status"] == 201
    assert peer.client("announce", article_id)["status"] == 201
    assert peer.client("reply", article_id, "Best <b>colada</b> in town! <script>x()</script>")[
        "status"] == 201

    async def article_page() -> str | None:
        """the like, the boost and the sanitized reply showing on the article's page"""
        async with httpx.AsyncClient(base_url=main_url) as browser:
            page = (await browser.get(f"/articles/{slug}")).text
        return page if "Best <b>colada</b> in town!" in page else None
    page = await until(article_page)
    assert "<script>" not in page

    async def liked() -> bool:
        """the Like and the Announce counted on the article"""
        async with httpx.AsyncClient(base_url=main_url) as browser:
            found = (await browser.get(f"/api/articles/{slug}/remote")).json()
        return found["likes"] == 1 and found["boosts"] == 1
    await until(liked)

    async with httpx.AsyncClient(base_url=main_url, headers=headers) as client:
        edited = await client.patch(f"/api/articles/{slug}", json={"title": "Cafecito, again"})
        assert edited.status_code == 200, edited.text
    await peer.inbox_until(lambda items: any(
        object_of(a).get("name") == "Cafecito, again" for a in of_type("Update", items)))

    async with httpx.AsyncClient(base_url=main_url, headers=headers) as client:
        assert (await client.delete(f"/api/articles/{slug}")).status_code == 204
    await peer.inbox_until(lambda items: any(
        object_of(a)["id"] == article_id for a in of_type("Delete", items)))
    async with httpx.AsyncClient(headers=ACTIVITY_JSON) as fetch:
        assert (await fetch.get(article_id)).status_code == 410

    assert peer.client("unfollow", actor_id, follow["id"])["status"] == 201

    async def unfollowed() -> bool:
        """bovine's Undo(Follow) emptying our followers collection"""
        async with httpx.AsyncClient(headers=ACTIVITY_JSON) as fetch:
            return (await fetch.get(actor["followers"])).json()["totalItems"] == 0
    await until(unfollowed)
