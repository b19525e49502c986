"""Fixtures of the pets tests."""

import pytest

from tests.pets.factories import create_listing


@pytest.fixture
async def listing(resources):
    return await create_listing(resources)
