"""The databases every benchmark runs on, set up and removed the same way.

PostgreSQL and MongoDB from POSTGRES_URL and MONGODB_URL when set, else embedded servers
started for the run. On the PostgreSQL server the run gets a database of its own, migrated,
dropped afterwards, as is the MongoDB database of the same name when MongoDB was given (an
embedded server goes whole).
"""

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class Databases:
    url: str  # the run's migrated PostgreSQL database
    mongodb_url: str
    name: str  # of the run's database, in PostgreSQL and in MongoDB
    scratch: Path  # a directory of the run's own, removed afterwards
    pgdata: Path | None  # the embedded PostgreSQL's data directory, to find its processes


def with_database(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def recreate_database(server_url: str, name: str, *, drop_only: bool = False) -> None:
    from sqlalchemy import text

    from panamia.db.postgres import create_engine

    engine = create_engine(server_url, "bench", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def drop_mongo_database(url: str, name: str) -> None:
    from panamia.db.mongo import create_client

    client = create_client(url, "bench")
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@contextmanager
def bench_databases(prefix: str = "panamia-bench") -> Iterator[Databases]:
    from panamia.db.embedded import EmbeddedMongo, EmbeddedPostgres
    from panamia.schema import deploy

    scratch = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    started: list = []
    name = f"panamia_bench_{uuid.uuid4().hex[:8]}"
    server_url, mongodb_url = os.environ.get("POSTGRES_URL"), os.environ.get("MONGODB_URL")
    pgdata, created = None, False
    try:
        if not server_url:
            postgres = EmbeddedPostgres(scratch)
            server_url = postgres.start(database="postgres")
            started.append(postgres)
            pgdata = postgres.pgdata
        if not mongodb_url:
            mongo = EmbeddedMongo(None, sync_on_commit=False)
            mongodb_url = mongo.start(preferred_port=None)
            started.append(mongo)
        asyncio.run(recreate_database(server_url, name))
        created = True
        url = with_database(server_url, name)
        deploy.upgrade(url)
        yield Databases(url, mongodb_url, name, scratch, pgdata)
    finally:
        if created:
            try:
                asyncio.run(recreate_database(server_url, name, drop_only=True))
                if os.environ.get("MONGODB_URL"):
                    asyncio.run(drop_mongo_database(mongodb_url, name))
            except Exception as exc:  # noqa: BLE001 - report, keep cleaning up
                print(f"could not drop the bench databases {name}: {exc}", file=sys.stderr)
        while started:
            started.pop().stop()
        shutil.rmtree(scratch, ignore_errors=True)
