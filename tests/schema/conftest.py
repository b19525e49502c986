"""Fresh databases for the deploy tests, and `panamia db` run against them."""

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panamia.schema.cli import db_app
from panamia.settings import get_settings
from tests.fixtures.database import create_database, database_name, drop_database


@pytest.fixture
def database_url(request):
    """An empty database of its own for each test, dropped afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    name = database_name(f"schema_{slug}")
    yield asyncio.run(create_database(name))
    asyncio.run(drop_database(name))


@pytest.fixture
def versions_dir(tmp_path) -> Path:
    directory = tmp_path / "versions"
    directory.mkdir()
    return directory


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    """`panamia db …` in-process against this test's database, in PANAMIA_ENV=test."""
    monkeypatch.chdir(tmp_path)  # no developer's .env
    runner = CliRunner()

    def invoke(*args: str, **env: str):
        environment = {"POSTGRES_URL": database_url, "POSTGRES_DIRECT_URL": "",
                       "MONGODB_URL": "", "PANAMIA_ENV": "test", **env}
        get_settings.cache_clear()
        try:
            return runner.invoke(db_app, list(args), env=environment)
        finally:
            get_settings.cache_clear()

    return invoke
