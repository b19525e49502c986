"""Our inboxes: only deliveries whose HTTP Signature holds, from the activity's own actor, in
time, once, small enough and from a domain that is not blocked are acted on."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from panamia.federation.models import DomainBlock
from panamia.social.models import Follow
from tests.fixtures.federation import known_remote, new_key, signed
from tests.profiles.factories import create_member

INBOX = "http://testserver/ap/inbox"


@pytest.fixture
async def ana(resources):
    return await create_member(resources, screenname="ana", name="Ana", active=True)


@pytest.fixture
async def bob(resources):
    return await known_remote(resources)


async def followers(resources, user_id: str) -> int:
    async with resources.reads() as session:
        return (await session.execute(select(func.count()).where(
            Follow.followed_id == user_id, Follow.follower_actor_id.is_not(None)))).scalar_one()


def follow_of(bob, ana: str) -> dict:
    return bob.activity("Follow", f"http://testserver/ap/users/{ana}")


async def post(client, body: bytes, headers: dict, url: str = INBOX):
    return await client.post(url, content=body, headers=headers)


class TestAccepted:
    async def test_a_signed_follow_is_accepted_and_counted(self, client, resources, ana, bob):
        body, headers = signed(bob, INBOX, follow_of(bob, ana))
        answer = await post(client, body, headers)
        assert answer.status_code == 202, answer.text
        assert await followers(resources, ana) == 1
        collection = (await client.get(f"/ap/users/{ana}/followers")).json()
        assert collection["totalItems"] == 1

    async def test_the_personal_inbox_and_rfc9421_signatures_work_too(
            self, client, resources, ana, bob):
        from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

        url = f"http://testserver/ap/users/{ana}/inbox"
        body = json.dumps(follow_of(bob, ana)).encode()
        request = httpx_request(url, body)
        HTTPMessageSigner(
            signature_algorithm=algorithms.RSA_V1_5_SHA256,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={bob.key_id: bob.key}),
        ).sign(request, key_id=bob.key_id, created=datetime.now(UTC),
               covered_component_ids=("@method", "@target-uri"), body=body)
        answer = await post(client, body, dict(request.headers), url)
        assert answer.status_code == 202, answer.text
        assert await followers(resources, ana) == 1


def httpx_request(url: str, body: bytes):
    import httpx

    return httpx.Request("POST", url, content=body,
                         headers={"content-type": "application/activity+json"})


class TestRefused:
    async def test_unsigned(self, client, resources, ana, bob):
        answer = await client.post(INBOX, content=json.dumps(follow_of(bob, ana)),
                                   headers={"content-type": "application/activity+json"})
        assert answer.status_code == 401
        assert await followers(resources, ana) == 0

    async def test_forged_with_another_key(self, client, resources, ana, bob):
        body, headers = signed(bob, INBOX, follow_of(bob, ana), key=new_key())
        assert (await post(client, body, headers)).status_code == 401
        assert await followers(resources, ana) == 0

    async def test_a_body_that_does_not_match_its_digest(self, client, resources, ana, bob):
        body, headers = signed(bob, INBOX, follow_of(bob, ana))
        tampered = body.replace(b"Follow", b"Follow ")
        assert (await post(client, tampered, headers)).status_code == 401
        assert await followers(resources, ana) == 0

    @pytest.mark.parametrize("age", [timedelta(hours=1, minutes=10), -timedelta(hours=2)])
    async def test_dated_outside_the_window(self, client, resources, ana, bob, age):
        body, headers = signed(bob, INBOX, follow_of(bob, ana), date=datetime.now(UTC) - age)
        assert (await post(client, body, headers)).status_code == 401
        assert await followers(resources, ana) == 0

    async def test_signed_by_someone_else_than_its_actor(self, client, resources, ana, bob):
        carol = await known_remote(resources, "https://social.example/users/carol")
        body, headers = signed(carol, INBOX, follow_of(bob, ana))
        assert (await post(client, body, headers)).status_code == 401
        assert await followers(resources, ana) == 0

    async def test_oversized(self, client, resources, ana, bob):
        activity = follow_of(bob, ana) | {"padding": "x" * (1024 * 1024)}
        body, headers = signed(bob, INBOX, activity)
        assert (await post(client, body, headers)).status_code == 413
        assert await followers(resources, ana) == 0

    async def test_from_a_blocked_domain_or_its_subdomains(self, client, resources, ana, bob):
        dave = await known_remote(resources, "https://eu.social.example/users/dave")
        async with resources.db.begin() as session:
            session.add(DomainBlock(domain="social.example"))
        for sender in (bob, dave):
            body, headers = signed(sender, INBOX, follow_of(sender, ana))
            assert (await post(client, body, headers)).status_code == 403
        assert await followers(resources, ana) == 0


async def test_a_replayed_activity_is_ignored(client, resources, ana, bob):
    follow = follow_of(bob, ana)
    body, headers = signed(bob, INBOX, follow)
    assert (await post(client, body, headers)).status_code == 202
    undo = bob.activity("Undo", follow)
    assert (await post(client, *signed(bob, INBOX, undo))).status_code == 202
    assert await followers(resources, ana) == 0
    # The same Follow again, freshly signed: it was seen, so it changes nothing.
    assert (await post(client, *signed(bob, INBOX, follow))).status_code == 202
    assert await followers(resources, ana) == 0
