"""Alembic environment: the URL comes from the caller (settings or a test), never a file.

`panamia db deploy` does not come through here (it drives Alembic per revision on its own
connection); Alembic's commands, autogenerate and pytest-alembic do. A test may hand over a
connection or an engine (sync or async) in `config.attributes["connection"]`.
"""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panamia.db.postgres import create_engine
from panamia.schema.ledger import LEDGER_TABLE
from panamia.schema.metadata import target_metadata
from panamia.schema.migrate import VERSION_TABLE_DDL


def include_name(name, type_, parent_names) -> bool:
    """Leave the deploy ledger out of autogenerate: no model describes it."""
    return not (type_ == "table" and name == LEDGER_TABLE)


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
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


async def run_online(connectable) -> None:
    if isinstance(connectable, AsyncConnection):
        await connectable.run_sync(run_with)
        return
    engine = connectable if isinstance(connectable, AsyncEngine) else create_engine(
        connectable, "migrate")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
    finally:
        if engine is not connectable:
            await engine.dispose()


def run() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run_with(given)
    elif isinstance(given, Engine):
        with given.connect() as connection:
            run_with(connection)
    else:
        asyncio.run(run_online(given or context.config.attributes["postgres_url"]))


if context.is_offline_mode():
    run_offline()
else:
    run()
