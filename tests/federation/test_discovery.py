"""What the fediverse sees of us: WebFinger (a port allowed), host-meta, NodeInfo 2.1,
members as actors by user id (listed profiles with screennames only), outboxes, and the
pages people share answering ActivityPub clients with the object itself."""

import re

import pytest

from panamia.articles.documents import Status
from tests.articles.factories import create_article
from tests.profiles.factories import create_member

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


@pytest.fixture
async def ana(resources):
    return await create_member(resources, screenname="ana", name="Ana", bio="Writes *here*.",
                               active=True)


async def test_webfinger_finds_a_member_by_handle(client, ana):
    answer = await client.get("/.well-known/webfinger",
                              params={"resource": "acct:ana@testserver"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/jrd+json")
    self_link = [link for link in answer.json()["links"] if link["rel"] == "self"][0]
    assert self_link == {"rel": "self", "type": "application/activity+json",
                         "href": f"http://testserver/ap/users/{ana}"}


async def test_webfinger_takes_a_host_with_its_port(resources, main_app, ana):
    from tests.fixtures.http import asgi_client

    main_app.state.resources.settings = resources.settings.model_copy(
        update={"auth_url": "http://127.0.0.1:8123"})
    async with asgi_client(main_app, "http://127.0.0.1:8123") as client:
        answer = await client.get("/.well-known/webfinger",
                                  params={"resource": "acct:ana@127.0.0.1:8123"})
    assert answer.status_code == 200
    assert answer.json()["subject"] == "acct:ana@127.0.0.1:8123"


@pytest.mark.parametrize("resource", ["acct:ana@elsewhere.example", "acct:nobody@testserver",
                                      "https://testserver/people/ana"])
async def test_webfinger_knows_only_our_members(client, ana, resource):
    answer = await client.get("/.well-known/webfinger", params={"resource": resource})
    assert answer.status_code == 404


async def test_host_meta_and_nodeinfo(client, ana):
    host_meta = await client.get("/.well-known/host-meta")
    assert 'rel="lrdd"' in host_meta.text
    assert "http://testserver/.well-known/webfinger?resource={uri}" in host_meta.text
    links = (await client.get("/.well-known/nodeinfo")).json()["links"]
    assert links == [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                      "href": "http://testserver/nodeinfo/2.1"},
                     {"rel": "https://www.w3.org/ns/activitystreams#Application",
                      "href": "http://testserver/ap/actor"}]
    info = (await client.get("/nodeinfo/2.1")).json()
    assert set(info) == {"version", "software", "protocols", "services", "openRegistrations",
                         "usage", "metadata"}
    assert info["version"] == "2.1" and info["protocols"] == ["activitypub"]
    assert re.fullmatch(r"[a-z0-9-]+", info["software"]["name"])
    assert info["usage"]["users"]["total"] >= 1


async def test_a_member_is_a_person_with_a_key(client, ana):
    answer = await client.get(f"/ap/users/{ana}", headers=AP)
    assert answer.headers["content-type"].startswith("application/activity+json")
    actor = answer.json()
    assert actor["id"] == f"http://testserver/ap/users/{ana}"
    assert actor["type"] == "Person" and actor["preferredUsername"] == "ana"
    assert actor["name"] == "Ana" and "<em>here</em>" in actor["summary"]
    assert actor["url"] == "http://testserver/people/ana"
    assert actor["endpoints"]["sharedInbox"] == "http://testserver/ap/inbox"
    assert actor["publicKey"]["id"] == actor["id"] + "#main-key"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in answer.text
    again = (await client.get(f"/ap/users/{ana}", headers=AP)).json()
    assert again["publicKey"] == actor["publicKey"]  # one key pair, kept


async def test_a_business_is_an_organization(client, resources):
    shop = await create_member(resources, screenname="shop", name="Café", active=True,
                               extra={"business": True})
    assert (await client.get(f"/ap/users/{shop}")).json()["type"] == "Organization"


async def test_unlisted_or_unnamed_members_are_not_actors(client, resources):
    unlisted = await create_member(resources, screenname="quiet", name="Quiet", active=False)
    unnamed = await create_member(resources, name="No Name", active=True)
    for user_id in (unlisted, unnamed, "nosuchuser"):
        assert (await client.get(f"/ap/users/{user_id}")).status_code == 404


async def test_the_outbox_lists_published_articles_in_pages(client, resources, ana):
    slug = await create_article(resources, ana, status=Status.PUBLISHED, title="Domino Park",
                                body="Games *all day*.")
    await create_article(resources, ana, title="A draft")
    outbox = (await client.get(f"/ap/users/{ana}/outbox")).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    assert "?" not in outbox["first"]
    page = (await client.get(outbox["first"].removeprefix("http://testserver"))).json()
    article = page["orderedItems"][0]["object"]
    assert article["id"] == f"http://testserver/articles/{slug}"
    assert article["type"] == "Article" and article["name"] == "Domino Park"
    assert "<em>all day</em>" in article["content"]
    assert article["attributedTo"] == [f"http://testserver/ap/users/{ana}"]


@pytest.mark.parametrize("accept", [AP, LD])
async def test_an_article_page_answers_activitypub_clients(client, resources, ana, accept):
    slug = await create_article(resources, ana, status=Status.PUBLISHED, title="Versailles")
    answer = await client.get(f"/articles/{slug}", headers=accept)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/activity+json")
    assert "Accept" in answer.headers["vary"]
    assert answer.json()["id"] == f"http://testserver/articles/{slug}"
    page = await client.get(f"/articles/{slug}", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]


async def test_a_person_page_sends_activitypub_clients_to_the_actor(client, ana):
    answer = await client.get("/people/ana", headers=AP)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://testserver/ap/users/{ana}"


async def test_the_instance_actor_is_fetchable_unsigned(client):
    actor = (await client.get("/ap/actor", headers=AP)).json()
    assert actor["type"] == "Application"
    assert actor["publicKey"]["id"] == "http://testserver/ap/actor#main-key"
