"""The cookie check as a serving process runs it: straight on a pooled driver connection,
outside any transaction, over a database whose writes commit."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.pool import NullPool

from panamia.db.postgres import create_engine
from panamia.identity.models import Session
from tests.fixtures.http import asgi_client
from tests.identity.factories import create_user, sign_in_as
from tests.identity.test_sessions import of_token, sidecar


async def expiry_of(resources, token: str) -> datetime | None:
    async with resources.engine.connect() as conn:
        return (await conn.execute(
            select(Session.expires).where(of_token(token))
        )).scalar_one_or_none()


async def drop_connections(resources, application_name: str) -> int:
    """Terminate the server processes of the pool's connections, from a connection of its own."""
    other = create_engine(resources.settings.postgres_url, "admin", poolclass=NullPool)
    try:
        async with other.connect() as conn:
            return (await conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            ), {"name": application_name})).scalar_one()
    finally:
        await other.dispose()


async def test_a_signed_in_request_is_known_and_a_stranger_is_not(committed_identity):
    resources = committed_identity
    user_id = await create_user(resources)
    async with asgi_client(sidecar(resources)) as client:
        await sign_in_as(client, resources, user_id)
        assert (await client.get("/whoami")).json()["id"] == user_id
        client.cookies.set("authjs.session-token", "f" * 64)
        assert (await client.get("/whoami")).status_code == 401


async def test_an_expired_session_is_refused_and_deleted(committed_identity):
    resources = committed_identity
    async with asgi_client(sidecar(resources)) as client:
        token = await sign_in_as(client, resources, await create_user(resources))
        async with resources.engine.begin() as conn:
            await conn.execute(update(Session).where(of_token(token))
                               .values(expires=datetime.now(UTC) - timedelta(seconds=1)))
        assert (await client.get("/whoami")).status_code == 401
    assert await expiry_of(resources, token) is None


async def test_requests_go_on_after_the_server_drops_every_connection(committed_identity):
    resources = committed_identity
    user_id = await create_user(resources)
    async with asgi_client(sidecar(resources)) as client:
        await sign_in_as(client, resources, user_id)
        assert (await client.get("/whoami")).status_code == 200
        assert await drop_connections(resources, "tests") >= 1
        for _ in range(3):
            response = await client.get("/whoami")
            assert response.status_code == 200, response.text
            assert response.json()["id"] == user_id
