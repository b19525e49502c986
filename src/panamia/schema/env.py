"""Alembic environment: the URL comes from the caller (settings or a test), never a file."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from panamia.db.postgres import create_engine
from panamia.schema.metadata import target_metadata

# Revision ids are `YYYYMMDDHHMMSS_snake_case`, longer than Alembic's default VARCHAR(32).
VERSION_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS alembic_version ("
    "version_num VARCHAR(255) NOT NULL CONSTRAINT alembic_version_pkc PRIMARY KEY)"
)


def run_offline() -> None:
    context.configure(
        url="postgresql://",
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection: Connection) -> None:
    connection.execute(text(VERSION_TABLE_DDL))
    connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online(url: str) -> None:
    engine = create_engine(url, "migrate")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online(context.config.attributes["postgres_url"]))
