"""What people elsewhere do with our articles shows on them: likes and boosts counted,
replies as comments (sanitized, their writers told), deletions honoured; follows held for
approval when the member asks; administrators remove comments and block domains."""

import json

import pytest
from sqlalchemy import func, select

from panamia.articles import service as article_service

from panamia.articles.documents import Status
from panamia.federation.models import Delivery, RemoteActor
from panamia.outbox import relay
from panamia.social.models import Follow
from tests.articles.factories import create_article
from tests.fixtures.federation import known_remote, signed
from tests.fixtures.http import BROWSER, signed_in_member, submit, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.profiles.factories import create_member, principal

INBOX = "http://testserver/ap/inbox"


@pytest.fixture
async def ana(resources):
    return await create_member(resources, screenname="ana", name="Ana", active=True)


@pytest.fixture
async def article(resources, ana):
    slug = await create_article(resources, ana, status=Status.PUBLISHED, title="Little Haiti")
    return slug, f"http://testserver/articles/{slug}"


async def deliver(client, sender, activity) -> None:
    body, headers = signed(sender, INBOX, activity)
    answer = await client.post(INBOX, content=body, headers=headers)
    assert answer.status_code == 202, answer.text


def reply(sender, article_url: str, html: str) -> dict:
    note_id = f"{sender.uri}/notes/1"
    return sender.activity("Create", {
        "id": note_id, "type": "Note", "attributedTo": sender.uri, "inReplyTo": article_url,
        "content": html, "published": "2026-12-06T10:00:00Z", "url": note_id})


async def test_likes_boosts_and_replies_show_on_the_article(client, resources, ana, article):
    slug, url = article
    bob = await known_remote(resources)
    cleo = await known_remote(resources, "https://other.example/users/cleo")
    for sender in (bob, cleo):
        await deliver(client, sender, sender.activity("Like", url))
    await deliver(client, bob, bob.activity("Announce", url))
    await deliver(client, bob, reply(bob, url, '<p>Lovely <b>piece</b><script>alert(1)</script>'
                                                '<img src=x onerror=alert(1)></p>'))

    reactions = (await client.get(f"/api/articles/{slug}/remote")).json()
    assert (reactions["likes"], reactions["boosts"]) == (2, 1)
    comment = reactions["comments"][0]
    assert comment["contentHtml"] == "<p>Lovely <b>piece</b></p>"
    assert comment["authorHandle"] == "@bob@social.example"

    page = text_of((await client.get(f"/articles/{slug}")).text)
    assert "From other servers: 2 likes, 1 boost" in page
    assert "Replies from other servers" in page and "Lovely piece" in page

    await relay.drain(resources)
    await sign_in_as(client, resources, ana)
    notes = (await client.get("/api/notifications")).json()["items"]
    assert any("Bob Remote" in str(n) and "Little Haiti" in str(n) for n in notes)


async def test_undo_and_delete_are_honoured(client, resources, ana, article):
    slug, url = article
    bob = await known_remote(resources)
    like = bob.activity("Like", url)
    await deliver(client, bob, like)
    await deliver(client, bob, reply(bob, url, "<p>First!</p>"))
    await deliver(client, bob, bob.activity("Undo", like))
    await deliver(client, bob, bob.activity("Delete", f"{bob.uri}/notes/1"))
    reactions = (await client.get(f"/api/articles/{slug}/remote")).json()
    assert reactions == {"likes": 0, "boosts": 0, "comments": []}


async def test_an_account_deleted_elsewhere_takes_its_reactions(client, resources, article):
    slug, url = article
    bob = await known_remote(resources)
    await deliver(client, bob, bob.activity("Like", url))
    await deliver(client, bob, bob.activity("Delete", bob.uri))
    assert (await client.get(f"/api/articles/{slug}/remote")).json()["likes"] == 0


async def test_follows_wait_for_approval_when_the_member_asks(client, resources, ana):
    await sign_in_as(client, resources, ana)
    saved = await submit(client, "/federation/preferences", {"approve_followers": "on"},
                         page="/federation")
    assert saved.status_code == 303
    page = await client.get("/federation", headers=BROWSER)
    assert "wait for your approval" in text_of(page.text)
    bob = await known_remote(resources)
    await deliver(client, bob, bob.activity("Follow", f"http://testserver/ap/users/{ana}"))
    async with resources.reads() as session:
        follow = (await session.execute(select(Follow.id, Follow.state))).one()
        queued = (await session.execute(select(func.count()).select_from(Delivery))).scalar()
    assert follow.state == "pending" and queued == 0
    requests = (await client.get("/api/federation/followers/requests")).json()
    assert [r["handle"] for r in requests] == ["@bob@social.example"]
    page = text_of((await client.get("/federation", headers=BROWSER)).text)
    assert "@bob@social.example wants to follow you" in page
    approved = await submit(client, f"/federation/followers/{follow.id}/approve", {},
                            page="/federation")
    assert approved.status_code == 303
    assert (await client.get("/api/federation/followers/requests")).json() == []
    again = await client.post(f"/api/federation/followers/{follow.id}/approve",
                              headers=await csrf_headers(client))
    assert again.status_code == 404
    async with resources.reads() as session:
        accept = (await session.execute(select(Delivery.body, Delivery.inbox))).one()
    assert '"type":"Accept"' in accept.body and accept.inbox == f"{bob.uri}/inbox"


async def test_administrators_block_domains_and_remove_comments(client, resources, ana,
                                                                article):
    slug, url = article
    bob = await known_remote(resources)
    await deliver(client, bob, bob.activity("Follow", f"http://testserver/ap/users/{ana}"))
    await deliver(client, bob, reply(bob, url, "<p>Spam</p>"))
    comment = (await client.get(f"/api/articles/{slug}/remote")).json()["comments"][0]

    await signed_in_member(client, resources, name="Member")
    refused = await client.post("/api/federation/blocks", json={"domain": "social.example"},
                                headers=await csrf_headers(client))
    assert refused.status_code == 403

    admin = await create_user(resources, email="admin@example.org")
    await sign_in_as(client, resources, admin)
    token = await csrf_headers(client)
    bad = await client.post("/api/federation/blocks", json={"domain": "not a domain"},
                            headers=token)
    assert bad.status_code == 422 and "example.social" in bad.json()["detail"]
    removed = await client.delete(f"/api/federation/comments/{comment['id']}", headers=token)
    assert removed.status_code == 204
    blocked = await client.post("/api/federation/blocks",
                                json={"domain": "Social.Example", "reason": "spam"},
                                headers=token)
    assert blocked.status_code == 201 and blocked.json()["domain"] == "social.example"
    async with resources.reads() as session:
        remaining = (await session.execute(select(func.count()).select_from(Follow))).scalar()
    assert remaining == 0
    assert (await client.get(f"/api/articles/{slug}/remote")).json()["comments"] == []
    admin_page = text_of((await client.get("/admin/federation")).text)
    assert "social.example" in admin_page and "spam" in admin_page


async def test_stop_following_someone_elsewhere(client, resources, ana):
    bob = await known_remote(resources)
    async with resources.db.begin() as session:
        actor_id = (await session.execute(select(RemoteActor.id))).scalar_one()
        session.add(Follow(follower_id=ana, followed_actor_id=actor_id, state="accepted",
                           activity_id="http://testserver/ap/activities/f1"))
    await sign_in_as(client, resources, ana)
    listed = (await client.get("/api/federation/follows")).json()
    assert [(f["id"], f["handle"]) for f in listed] == [(actor_id, "@bob@social.example")]
    stopped = await submit(client, f"/federation/follows/{actor_id}/stop", {},
                           page="/federation")
    assert stopped.status_code == 303
    assert (await client.get("/api/federation/follows")).json() == []
    async with resources.reads() as session:
        undo = (await session.execute(select(Delivery.body, Delivery.inbox))).one()
    assert '"type":"Undo"' in undo.body and "http://testserver/ap/activities/f1" in undo.body
    assert undo.inbox == f"{bob.uri}/inbox"
    again = await client.delete(f"/api/federation/follows/{actor_id}",
                                headers=await csrf_headers(client))
    assert again.status_code == 404


async def test_removal_and_restoration_reach_remote_followers(client, resources, ana, article):
    slug, url = article
    bob = await known_remote(resources)
    await deliver(client, bob, bob.activity("Follow", f"http://testserver/ap/users/{ana}"))
    admin = principal("admin", is_admin=True)
    await article_service.remove_article(resources, admin, slug)
    gone = await client.get(f"/articles/{slug}", headers={"Accept": "application/activity+json"})
    assert gone.status_code == 410 and gone.json()["formerType"] == "Article"
    await article_service.restore_article(resources, admin, slug)
    back = await client.get(f"/articles/{slug}", headers={"Accept": "application/activity+json"})
    assert back.status_code == 200 and back.json()["id"] == url
    async with resources.reads() as session:
        sent = [json.loads(body)["type"] for body in (await session.execute(
            select(Delivery.body).where(Delivery.inbox == "https://social.example/inbox")
            .order_by(Delivery.created_at, Delivery.id))).scalars()]
    assert sorted(sent) == ["Create", "Delete"]
