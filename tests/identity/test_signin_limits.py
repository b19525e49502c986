"""Sign-in mail is limited per address and per client, counted in PostgreSQL so that every
worker and replica shares the count; the limits here are the defaults unless a test says."""

import dataclasses
import re
import time
import httpx
from sqlalchemy import func, select

from panamia.apps.main import create_app
from panamia.identity.models import VerificationToken
from panamia.resources import Resources
from tests.fixtures.http import asgi_client, submit, text_of
from tests.identity.factories import create_user, request_link, unique_email


def seconds_left_in_the_hour() -> float:
    return 3600 - time.time() % 3600


def client_at(app, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def app_allowing(resources: Resources, links_per_client: int):
    limited = resources.settings.model_copy(update={"signin_limit_per_client": links_per_client})
    return create_app(limited, dataclasses.replace(resources, settings=limited))


class TestPerAddress:
    async def test_the_sixth_link_in_an_hour_is_refused_until_the_hour_ends(
        self, client, mailbox, connection
    ):
        email = unique_email()
        for _ in range(5):
            assert (await request_link(client, email)).status_code == 200
        refused = await request_link(client, email.upper())

        assert refused.status_code == 429
        assert refused.json()["error"] == "too many requests"
        assert "Try again in" in refused.json()["detail"]
        assert abs(int(refused.headers["retry-after"]) - seconds_left_in_the_hour()) <= 2
        assert len(mailbox.to(email)) == 5
        assert (await connection.execute(select(func.count()).select_from(VerificationToken)
                                          .where(VerificationToken.identifier == email))
                ).scalar_one() == 5
        assert (await request_link(client, unique_email())).status_code == 200

    async def test_members_and_strangers_are_refused_alike(self, client, resources):
        member, stranger = unique_email("member"), unique_email("stranger")
        await create_user(resources, email=member)
        refusals = []
        for email in (member, stranger):
            for _ in range(5):
                await request_link(client, email)
            refused = await request_link(client, email)
            refusals.append((refused.status_code, re.sub(r"\d+", "N", refused.text)))
        assert refusals[0] == refusals[1]
        assert refusals[0][0] == 429

    async def test_the_sign_in_page_says_when_to_try_again(self, client, mailbox):
        email = unique_email("page")
        for _ in range(5):
            await submit(client, "/signin", {"email": email}, page="/signin")
        page = await submit(client, "/signin", {"email": email}, page="/signin")

        assert page.status_code == 429
        assert page.headers["content-type"].startswith("text/html")
        assert int(page.headers["retry-after"]) > 0
        shown = text_of(page.text)
        assert "Please wait a little" in shown and re.search(r"Try again in \d+ minutes?", shown)
        assert len(mailbox.to(email)) == 5


class TestPerClient:
    async def test_one_client_gets_so_many_links_whatever_the_addresses(self, resources):
        app = app_allowing(resources, 3)
        async with client_at(app, "203.0.113.7") as greedy, \
                client_at(app, "198.51.100.2") as neighbour:
            answers = [(await request_link(greedy, unique_email())).status_code
                       for _ in range(4)]
            assert answers == [200, 200, 200, 429]
            assert (await request_link(neighbour, unique_email())).status_code == 200

    async def test_a_link_refused_for_its_address_costs_the_client_nothing(self, resources):
        app = app_allowing(resources, 6)
        async with client_at(app, "203.0.113.8") as client:
            email = unique_email()
            answers = [(await request_link(client, email)).status_code for _ in range(6)]
            assert answers == [200] * 5 + [429]
            assert (await request_link(client, unique_email())).status_code == 200
            assert (await request_link(client, unique_email())).status_code == 429


async def test_two_app_instances_share_one_count(committed_identity, committed_settings):
    """Like two replicas behind a load balancer: each app has its own connection pool, and
    the count lives in the database they share."""
    other = Resources.open(committed_settings, "tests")
    first = create_app(committed_settings, committed_identity)
    second = create_app(committed_settings, other)
    email = unique_email()
    try:
        async with asgi_client(first) as one, asgi_client(second) as two:
            answers = [(await request_link(client, email)).status_code
                       for client in (one, two, one, two, one, two)]
            assert answers == [200] * 5 + [429]
            assert (await request_link(one, email)).status_code == 429
    finally:
        await other.close()
