"""Fixtures of the exchange tests: its app on the test's transaction, and members."""

from collections.abc import AsyncIterator

import pytest

from panamia.exchange.sidecar import SIDECAR
from panamia.resources import Resources
from panamia.sidecar.registry import create_app
from tests.exchange.factories import member
from tests.fixtures.database import migrated_database


@pytest.fixture
def exchange_app(settings, resources):
    return create_app(SIDECAR, settings, resources)


@pytest.fixture
def members(exchange_app, resources):
    """`async with members() as ana:` a new signed-in member with $1,000."""
    return lambda **kwargs: member(exchange_app, resources, **kwargs)


@pytest.fixture
async def own_database(committed_settings) -> AsyncIterator[Resources]:
    """Resources on a migrated database of the test's own, whose transactions commit, dropped
    afterwards: the ledger keeps every entry for good, so no other test's `ledger check`
    meets what a served exchange held."""
    async with migrated_database("panamia_exchange") as url:
        resources = Resources.open(committed_settings.model_copy(
            update={"postgres_url": url}), "tests")
        yield resources
        await resources.close()
