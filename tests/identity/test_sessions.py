import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from panamia.errors import install_error_handlers
from panamia.identity import service
from panamia.identity.dependencies import SESSION_MAX_AGE, CurrentUser
from panamia.identity.models import Session
from panamia.identity.tokens import session_token_hash
from tests.fixtures.database import counted_statements
from tests.fixtures.http import asgi_client
from tests.fixtures.resources import TEST_SECRET
from tests.identity.factories import (
    create_user,
    csrf_headers,
    magic_link,
    press_sign_in,
    sign_in_as,
    unique_email,
)


def sidecar(resources) -> FastAPI:
    """A second service that knows nothing of identity but `CurrentUser`."""
    app = FastAPI()
    app.state.resources = resources
    install_error_handlers(app)

    @app.get("/whoami")
    async def whoami(user: CurrentUser) -> dict:
        return {"id": user.id, "email": user.email}

    return app


def of_token(token: str):
    return Session.session_token == session_token_hash(token, TEST_SECRET)


async def set_expiry(connection, token: str, expires: datetime, **values) -> None:
    await connection.execute(update(Session).where(of_token(token))
                             .values(expires=expires, **values))


async def stored_expiry(connection, token: str) -> datetime | None:
    return (await connection.execute(
        select(Session.expires).where(of_token(token))
    )).scalar_one_or_none()


async def stored_last_seen(connection, token: str) -> datetime | None:
    return (await connection.execute(
        select(Session.last_seen_at).where(of_token(token))
    )).scalar_one()


class TestSharedSession:
    async def test_the_main_apps_cookie_authenticates_on_another_service(self, client, resources):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        async with asgi_client(sidecar(resources), "http://pets.testserver") as other:
            other.cookies = client.cookies
            response = await other.get("/whoami")
        assert response.status_code == 200
        assert response.json()["id"] == user_id

    async def test_no_cookie_or_an_unknown_one_is_401(self, resources):
        async with asgi_client(sidecar(resources)) as other:
            assert (await other.get("/whoami")).json()["error"] == "Unauthorized"
            other.cookies.set("authjs.session-token", "f" * 64)
            assert (await other.get("/whoami")).status_code == 401

    async def test_the_nextauth_v4_cookie_name_is_accepted(self, client, resources):
        user_id = await create_user(resources)
        token = await sign_in_as(client, resources, user_id)
        client.cookies.clear()
        client.cookies.set("next-auth.session-token", token)
        assert (await client.get("/api/auth/session")).json()["user"]["id"] == user_id

    async def test_one_query_per_authenticated_request(self, client, resources, connection):
        await sign_in_as(client, resources, await create_user(resources))
        with counted_statements(connection) as statements:
            async with asgi_client(sidecar(resources)) as other:
                other.cookies = client.cookies
                assert (await other.get("/whoami")).status_code == 200
        assert len(statements) == 1, statements


class TestExpiry:
    async def test_an_expired_session_is_refused_and_deleted(self, client, resources, connection):
        token = await sign_in_as(client, resources, await create_user(resources))
        await set_expiry(connection, token, datetime.now(UTC) - timedelta(seconds=1))
        assert (await client.get("/api/auth/session")).json() == {}
        assert await stored_expiry(connection, token) is None

    async def test_a_day_old_session_slides_forward_and_the_cookie_is_resent(
        self, client, resources, connection
    ):
        token = await sign_in_as(client, resources, await create_user(resources))
        old = datetime.now(UTC) + SESSION_MAX_AGE - timedelta(days=1, minutes=1)
        await set_expiry(connection, token, old)

        response = await client.get("/api/auth/session")

        renewed = await stored_expiry(connection, token)
        assert renewed > old + timedelta(hours=23)
        assert "authjs.session-token=" in response.headers["set-cookie"]

    async def test_a_fresh_session_is_not_written(self, client, resources, connection):
        token = await sign_in_as(client, resources, await create_user(resources))
        before = await stored_expiry(connection, token)
        response = await client.get("/api/auth/session")
        assert await stored_expiry(connection, token) == before
        assert "set-cookie" not in response.headers


class TestAbsoluteLifetime:
    """However often it is used, a session ends SESSION_ABSOLUTE_DAYS (90) after sign-in."""

    async def test_a_session_past_its_absolute_lifetime_is_refused_and_deleted(
        self, client, resources, connection
    ):
        token = await sign_in_as(client, resources, await create_user(resources))
        now = datetime.now(UTC)
        await set_expiry(connection, token, now + timedelta(days=20),
                         created_at=now - timedelta(days=90, seconds=1))
        assert (await client.get("/api/auth/session")).json() == {}
        assert await stored_expiry(connection, token) is None

    async def test_the_slide_stops_at_the_absolute_end(self, client, resources, connection):
        token = await sign_in_as(client, resources, await create_user(resources))
        now = datetime.now(UTC)
        created = now - timedelta(days=89)
        await set_expiry(connection, token, now + SESSION_MAX_AGE - timedelta(days=1, minutes=1),
                         created_at=created)

        session = (await client.get("/api/auth/session")).json()

        assert await stored_expiry(connection, token) == created + timedelta(days=90)
        assert datetime.fromisoformat(session["expires"]) == created + timedelta(days=90)
        await set_expiry(connection, token, now + SESSION_MAX_AGE)  # as a Next.js app slides
        await client.get("/api/auth/session")
        assert await stored_expiry(connection, token) == created + timedelta(days=90)

    async def test_a_new_session_ends_within_a_shorter_absolute_lifetime(self, resources):
        weekly = dataclasses.replace(resources, settings=resources.settings.model_copy(
            update={"session_absolute_days": 7}))
        async with weekly.db.begin() as db:
            new = await service.start_session(db, weekly, await create_user(weekly))
        assert new.expires <= datetime.now(UTC) + timedelta(days=7)


class TestLastSeen:
    async def test_a_request_records_the_last_use_once_it_is_an_hour_old(
        self, client, resources, connection
    ):
        token = await sign_in_as(client, resources, await create_user(resources))
        now = datetime.now(UTC)
        half_hour_ago = now - timedelta(minutes=30)
        await set_expiry(connection, token, now + SESSION_MAX_AGE, last_seen_at=half_hour_ago)
        await client.get("/api/auth/session")
        assert await stored_last_seen(connection, token) == half_hour_ago

        await set_expiry(connection, token, now + SESSION_MAX_AGE,
                         last_seen_at=now - timedelta(hours=1, seconds=1))
        response = await client.get("/api/auth/session")
        assert await stored_last_seen(connection, token) >= now
        assert "set-cookie" not in response.headers  # the expiry did not move


@pytest.fixture
async def secure_client(settings, resources):
    """The main app served over https, as in production."""
    from panamia.apps.main import create_app

    secure = settings.model_copy(update={"auth_url": "https://testserver"})
    app = create_app(secure, dataclasses.replace(resources, settings=secure))
    async with asgi_client(app, "https://testserver") as client:
        yield client


class TestCookiesOverHttps:
    """An unprefixed cookie can be set over plain http or by a sibling subdomain, so over https
    only `__Secure-`/`__Host-` names count."""

    async def test_only_the_prefixed_session_cookies_are_read(self, secure_client, resources):
        user_id = await create_user(resources)
        token = await sign_in_as(secure_client, resources, user_id)
        readable = {"__Secure-authjs.session-token", "__Secure-next-auth.session-token"}
        for name in ("authjs.session-token", "next-auth.session-token", *readable):
            secure_client.cookies.clear()
            secure_client.cookies.set(name, token)
            session = (await secure_client.get("/api/auth/session")).json()
            assert session.get("user", {}).get("id") == (user_id if name in readable else None)

    async def test_a_new_session_cookie_is_secure_and_prefixed(self, secure_client, mailbox):
        email = unique_email()
        await secure_client.post("/api/auth/signin/email", json={"email": email},
                                 headers=await csrf_headers(secure_client))
        opened = await press_sign_in(secure_client, magic_link(mailbox.to(email)[-1]))
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith("__Secure-authjs.session-token=")
        assert "Secure" in cookie and "HttpOnly" in cookie

    async def test_only_the_host_csrf_cookie_is_read(self, secure_client):
        headers = await csrf_headers(secure_client)
        signed = secure_client.cookies["__Host-authjs.csrf-token"]
        secure_client.cookies.clear()
        secure_client.cookies.set("authjs.csrf-token", signed)
        response = await secure_client.post("/api/auth/signin/email",
                                            json={"email": unique_email()}, headers=headers)
        assert response.status_code == 403


class TestAdmins:
    async def test_admin_emails_match_regardless_of_case(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources, email="admin@example.org"))
        assert (await client.get("/api/auth/session")).json()["user"]["isAdmin"] is True

    async def test_others_are_not_admins(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources, email=unique_email()))
        assert (await client.get("/api/auth/session")).json()["user"]["isAdmin"] is False
