"""Fixtures of the rentals tests: a client of the rentals sidecar, on the test's transaction."""

from collections.abc import AsyncIterator

import httpx
import pytest

from panamia.rentals.sidecar import SIDECAR
from panamia.sidecar.registry import create_app
from tests.fixtures.http import asgi_client


@pytest.fixture
async def rentals(settings, resources) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(SIDECAR, settings, resources)) as client:
        yield client
