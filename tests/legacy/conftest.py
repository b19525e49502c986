"""Migrated databases of their own, for the CLI run as a separate process (its commits must
be real, and a kill must hit a real server)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text

from panamia.db.postgres import create_engine
from tests.fixtures.database import migrated_database

TABLES = "users, legacy_id_map, legacy_rejects, legacy_progress"


@pytest.fixture(scope="session")
async def legacy_database_urls(server_urls) -> AsyncIterator[list[str]]:
    """Two migrated databases: one for an interrupted run, one for a clean one."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(migrated_database(f"panamia_legacy_{n}"))
               for n in ("a", "b")]


@pytest.fixture
async def empty_databases(legacy_database_urls) -> list[str]:
    for url in legacy_database_urls:
        engine = create_engine(url, "tests")
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))
        await engine.dispose()
    return legacy_database_urls


@pytest.fixture
async def legacy_mongo(mongo_client) -> AsyncIterator:
    """A fresh MongoDB database for the legacy collections."""
    name = f"legacy_{uuid.uuid4().hex[:12]}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)
