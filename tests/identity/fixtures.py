"""The committed database of tests/outbox/fixtures.py, also emptied of what sign-in leaves
there: links and rate-limit counts. Import the fixtures where they are used."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from panamia.resources import Resources
from tests.outbox.fixtures import (  # noqa: F401 - fixtures
    committed,
    committed_database_url,
    committed_settings,
)


@pytest.fixture
async def committed_identity(committed) -> AsyncIterator[Resources]:
    yield committed
    async with committed.engine.begin() as conn:
        await conn.execute(text("TRUNCATE rate_limit_windows, verification_tokens"))
