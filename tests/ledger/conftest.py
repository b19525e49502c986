"""A ledger database of its own whose transactions commit: for races between connections,
for what the database refuses at commit, and for the operator's commands."""

from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from sqlalchemy.pool import NullPool

from panamia.db.postgres import create_engine
from panamia.resources import Resources
from panamia.settings import get_settings
from tests.fixtures.database import migrated_database


@pytest.fixture(scope="module")
async def ledger_database_url(server_urls) -> AsyncIterator[str]:
    """Its entries cannot be deleted (that is the point), so each module gets a fresh one."""
    async with migrated_database("panamia_ledger") as url:
        yield url


@pytest.fixture
async def ledger_engine(ledger_database_url):
    engine = create_engine(ledger_database_url, "tests", poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
def lock_watch(ledger_engine):
    """What `tests.fixtures.database.until_waiting` needs to watch this database."""
    return SimpleNamespace(engine=ledger_engine)


@pytest.fixture
async def ledger_resources(settings, ledger_database_url, mongo_client) -> AsyncIterator[Resources]:
    resources = Resources.open(settings.model_copy(update={"postgres_url": ledger_database_url}),
                               "tests")
    yield resources
    await resources.close()


@pytest.fixture
def ledger_cli_env(ledger_resources, monkeypatch):
    """The environment an operator would set, pointing at the ledger database."""
    settings = ledger_resources.settings
    for name, value in {
        "PANAMIA_ENV": "test", "POSTGRES_URL": settings.postgres_url,
        "MONGODB_URL": settings.mongodb_url, "MONGODB_DB": settings.mongodb_db,
        "AUTH_SECRET": settings.auth_secret,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()
