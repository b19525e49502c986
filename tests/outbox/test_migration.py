"""The outbox migration matches the model, and its downgrade really removes the table."""

import asyncio
import os

from alembic import command
from sqlalchemy import inspect, text

from panamia.db.postgres import create_engine
from panamia.schema import migrate
from tests.conftest import POSTGRES_ENV, recreate_database, worker_name

REVISION = "20261125033736_add_outbox"
PREVIOUS = "20261125033000_init_users_and_auth"


async def drop_database(name: str) -> None:
    engine = create_engine(os.environ[POSTGRES_ENV], "tests", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def tables(url: str) -> set[str]:
    engine = create_engine(url, "tests")
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


async def test_upgrade_matches_the_models_and_downgrade_reverts(pytestconfig):
    name = f"panamia_outbox_migration_{worker_name(pytestconfig)}"
    url = await recreate_database(os.environ[POSTGRES_ENV], name)
    config = migrate.alembic_config(url)

    try:
        await asyncio.to_thread(command.upgrade, config, "head")
        await asyncio.to_thread(command.check, config)  # autogenerate finds no difference
        assert "outbox" in await tables(url)

        await asyncio.to_thread(command.downgrade, config, PREVIOUS)
        assert "outbox" not in await tables(url)
        await asyncio.to_thread(command.upgrade, config, REVISION)
        assert "outbox" in await tables(url)
    finally:
        await drop_database(name)
