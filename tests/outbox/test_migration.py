"""The outbox migration matches the model, and its downgrade really removes the table."""

import asyncio

from alembic import command
from sqlalchemy import inspect

from panamia.db.postgres import create_engine
from panamia.schema import migrate
from tests.fixtures.database import empty_database

REVISION = "20261125033736_add_outbox"
PREVIOUS = "20261125033000_init_users_and_auth"


async def tables(url: str) -> set[str]:
    engine = create_engine(url, "tests")
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


async def test_upgrade_matches_the_models_and_downgrade_reverts():
    async with empty_database("panamia_outbox_migration") as url:
        config = migrate.alembic_config(url)

        await asyncio.to_thread(command.upgrade, config, "head")
        await asyncio.to_thread(command.check, config)  # autogenerate finds no difference
        assert "outbox" in await tables(url)

        await asyncio.to_thread(command.downgrade, config, PREVIOUS)
        assert "outbox" not in await tables(url)
        await asyncio.to_thread(command.upgrade, config, REVISION)
        assert "outbox" in await tables(url)
