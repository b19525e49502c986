"""A migrated database of its own whose transactions commit, for races between connections
and for served processes. Import the fixtures where they are used."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from panamia.db.postgres import create_engine
from panamia.identity import cookies
from panamia.identity import service as identity_service
from panamia.identity.tokens import csrf_cookie_value, new_token
from panamia.resources import Resources
from panamia.schema import migrate
from panamia.settings import Settings
from tests.conftest import recreate_database, worker_name


@pytest.fixture(scope="session")
async def bookings_database_url(server_urls, pytestconfig) -> AsyncIterator[str]:
    name = f"panamia_bookings_{worker_name(pytestconfig)}"
    url = await recreate_database(server_urls[0], name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    engine = create_engine(server_urls[0], "tests", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


@pytest.fixture
def committed_settings(settings, bookings_database_url) -> Settings:
    return settings.model_copy(update={
        "postgres_url": bookings_database_url, "mongodb_db": f"test_{uuid.uuid4().hex[:12]}",
    })


@pytest.fixture
async def committed(committed_settings, mongo_client) -> AsyncIterator[Resources]:
    """Resources whose transactions commit; emptied afterwards."""
    resources = Resources.open(committed_settings, "tests")
    yield resources
    async with resources.engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox, users CASCADE"))
    await resources.close()
    await mongo_client.drop_database(committed_settings.mongodb_db)


async def signed_in_cookies(resources: Resources, user_id: str) -> tuple[dict, dict]:
    """The cookies and header of a signed-in browser: a session, and a CSRF cookie with its
    token, made directly (for clients of served processes, without the main app)."""
    async with resources.db.begin() as db:
        session = await identity_service.start_session(db, resources, user_id)
    token = new_token()
    settings = resources.settings
    return (
        {cookies.session_cookie_name(settings): session.token,
         cookies.csrf_cookie_name(settings): csrf_cookie_value(token, settings.secret)},
        {"X-CSRF-Token": token},
    )


async def lock_waiters(resources: Resources) -> int:
    """Backends of this database waiting for a lock right now."""
    async with resources.engine.connect() as conn:
        return (await conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        ))).scalar_one()


async def until_waiting(resources: Resources, count: int = 1, timeout: float = 10.0) -> None:
    """Return once `count` backends wait for a lock (the race is set up), else fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await lock_waiters(resources) < count:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"fewer than {count} backend(s) came to wait for a lock")
        await asyncio.sleep(0.01)
