"""A ledger database of its own whose transactions commit: for races between connections,
for what the database refuses at commit, and for the operator's commands."""

from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from sqlalchemy.pool import NullPool

from panamia.db.postgres import create_engine
from panamia.resources import Resources
from panamia.settings import Settings
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
def committed_settings(settings, ledger_database_url) -> Settings:
    """Here the committed database is the ledger's, for `cli_env` and `ledger_resources`."""
    return settings.model_copy(update={"postgres_url": ledger_database_url})


@pytest.fixture
async def ledger_resources(committed_settings) -> AsyncIterator[Resources]:
    resources = Resources.open(committed_settings, "tests")
    yield resources
    await resources.close()
