"""Migrated databases of their own, for the CLI run as a separate process (its commits must
be real, and a kill must hit a real server). Import the fixtures where they are used."""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from panamia.db.postgres import create_engine
from panamia.schema import migrate
from tests.conftest import TEST_SECRET, recreate_database, worker_name

TABLES = "users, legacy_id_map, legacy_rejects, legacy_progress"


@pytest.fixture(scope="session")
async def legacy_database_urls(server_urls, pytestconfig) -> AsyncIterator[list[str]]:
    """Two migrated databases: one for an interrupted run, one for a clean one."""
    names = [f"panamia_legacy_{n}_{worker_name(pytestconfig)}" for n in ("a", "b")]
    urls = [await recreate_database(server_urls[0], name) for name in names]
    for url in urls:  # one at a time: deploys running at once in threads share state
        await asyncio.to_thread(migrate.upgrade, url)
    yield urls
    engine = create_engine(server_urls[0], "tests", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for name in names:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


@pytest.fixture
async def empty_databases(legacy_database_urls) -> list[str]:
    for url in legacy_database_urls:
        engine = create_engine(url, "tests")
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))
        await engine.dispose()
    return legacy_database_urls


@pytest.fixture
async def legacy_mongo(mongo_client) -> AsyncIterator:
    """A fresh MongoDB database for the legacy collections."""
    name = f"legacy_{uuid.uuid4().hex[:12]}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


def cli_env(postgres_url: str, mongo_url: str, mongo_db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "MONGODB_"))}
    env.update(POSTGRES_URL=postgres_url, MONGODB_URL=mongo_url, MONGODB_DB=mongo_db,
               AUTH_SECRET=TEST_SECRET, PANAMIA_ENV="test", COLUMNS="200")
    return env


async def start_cli(env: dict[str, str], cwd: Path, *args: str,
                    quiet: bool = False) -> asyncio.subprocess.Process:
    """`python -m panamia.legacy.cli …`; `quiet` discards its output (a process that will be
    killed is never read from, and must not block on a full pipe)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "panamia.legacy.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL if quiet else asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)


async def run_cli(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    process = await start_cli(env, cwd, *args)
    out, _ = await process.communicate()
    return process.returncode, out.decode()
