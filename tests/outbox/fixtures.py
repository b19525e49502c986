"""A migrated database of its own for tests that need real commits: concurrent relays
and the CLI, which opens its own connections. Import the fixtures where they are used."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import typer
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from panamia import doctor
from panamia.db.postgres import create_engine
from panamia.outbox.cli import outbox_app
from panamia.resources import Resources
from panamia.schema import migrate
from panamia.settings import Settings, get_settings
from tests.conftest import recreate_database, worker_name


@pytest.fixture(scope="session")
async def committed_database_url(server_urls, pytestconfig) -> AsyncIterator[str]:
    name = f"panamia_outbox_{worker_name(pytestconfig)}"
    url = await recreate_database(server_urls[0], name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    engine = create_engine(server_urls[0], "tests", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


@pytest.fixture
def committed_settings(settings, committed_database_url) -> Settings:
    return settings.model_copy(update={
        "postgres_url": committed_database_url, "mongodb_db": f"test_{uuid.uuid4().hex[:12]}",
    })


@pytest.fixture
async def committed(committed_settings, mongo_client) -> AsyncIterator[Resources]:
    """Resources whose transactions commit; emptied afterwards."""
    resources = Resources.open(committed_settings, "tests")
    yield resources
    async with resources.engine.begin() as conn:
        await conn.execute(text("TRUNCATE outbox, users CASCADE"))
    await resources.close()
    await mongo_client.drop_database(committed_settings.mongodb_db)


@pytest.fixture
def cli_env(committed_settings, monkeypatch) -> Settings:
    """The environment an operator would set, pointing at the committed database."""
    for name, value in {
        "PANAMIA_ENV": "test", "POSTGRES_URL": committed_settings.postgres_url,
        "MONGODB_URL": committed_settings.mongodb_url,
        "MONGODB_DB": committed_settings.mongodb_db,
        "AUTH_SECRET": committed_settings.auth_secret,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield committed_settings
    get_settings.cache_clear()


def cli_app() -> typer.Typer:
    """The commands wired as the top-level `panamia` CLI wires them."""
    app = typer.Typer()
    app.add_typer(outbox_app, name="outbox")
    app.command("doctor")(doctor.command)
    return app


async def invoke(*args: str) -> Result:
    """Run a command as an operator would; in a thread, since it runs its own event loop."""
    return await asyncio.to_thread(CliRunner().invoke, cli_app(), list(args))
