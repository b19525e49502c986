"""Fixtures of the rentals tests: a client of the rentals sidecar on the test's transaction,
and a database of a module's own whose transactions commit."""

from collections.abc import AsyncIterator

import httpx
import pytest

from panamia.rentals.sidecar import SIDECAR
from panamia.resources import Resources
from panamia.sidecar.registry import create_app
from tests.fixtures.database import migrated_database
from tests.fixtures.http import asgi_client


@pytest.fixture
async def rentals(settings, resources) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(SIDECAR, settings, resources)) as client:
        yield client


@pytest.fixture(scope="module")
async def rentals_database_url(server_urls) -> AsyncIterator[str]:
    """Ledger entries cannot be deleted, and `panamia ledger check` compares every escrow
    with the rentals: a module whose money commits gets a fresh database."""
    async with migrated_database("panamia_rentals") as url:
        yield url


@pytest.fixture
async def committed_rentals(settings, rentals_database_url) -> AsyncIterator[Resources]:
    resources = Resources.open(
        settings.model_copy(update={"postgres_url": rentals_database_url}), "tests")
    yield resources
    await resources.close()
