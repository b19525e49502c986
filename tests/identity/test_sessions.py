from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import event, select, update

from panamia.errors import install_error_handlers
from panamia.identity.dependencies import SESSION_MAX_AGE, CurrentUser
from panamia.identity.models import Session
from panamia.identity.tokens import session_token_hash
from tests.conftest import TEST_SECRET, asgi_client
from tests.identity.factories import create_user, sign_in_as, unique_email


def sidecar(resources) -> FastAPI:
    """A second service that knows nothing of identity but `CurrentUser`."""
    app = FastAPI()
    app.state.resources = resources
    install_error_handlers(app)

    @app.get("/whoami")
    async def whoami(user: CurrentUser) -> dict:
        return {"id": user.id, "email": user.email}

    return app


async def set_expiry(connection, token: str, expires: datetime) -> None:
    await connection.execute(
        update(Session).where(Session.session_token == session_token_hash(token, TEST_SECRET))
        .values(expires=expires)
    )


async def stored_expiry(connection, token: str) -> datetime | None:
    return (await connection.execute(
        select(Session.expires).where(
            Session.session_token == session_token_hash(token, TEST_SECRET))
    )).scalar_one_or_none()


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
        statements = []

        def record(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        event.listen(connection.sync_connection, "before_cursor_execute", record)
        try:
            async with asgi_client(sidecar(resources)) as other:
                other.cookies = client.cookies
                assert (await other.get("/whoami")).status_code == 200
        finally:
            event.remove(connection.sync_connection, "before_cursor_execute", record)
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


class TestAdmins:
    async def test_admin_emails_match_regardless_of_case(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources, email="admin@example.org"))
        assert (await client.get("/api/auth/session")).json()["user"]["isAdmin"] is True

    async def test_others_are_not_admins(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources, email=unique_email()))
        assert (await client.get("/api/auth/session")).json()["user"]["isAdmin"] is False
