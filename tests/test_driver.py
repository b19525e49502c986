"""Statements sent straight to asyncpg (`db.driver`) read and write what the same statements
through a session do, and a connection lost in the middle of a transaction answers as
PostgreSQL being unreachable, with nothing written and the pool working again after."""


import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from panamia.db.driver import DriverStatement, read_first, transaction
from panamia.db.postgres import create_engine, unreachable
from panamia.outbox.models import OutboxEvent

outbox = OutboxEvent.__table__
PAYLOAD = {"name": "Rex", "tags": ["dog", "small"], "nested": {"n": 1}}
# Types both ways: JSON in and out, a numeric, a timestamp from the server.
ECHO = DriverStatement(select(
    bindparam("payload", type_=JSONB).label("payload"),
    (bindparam("price", type_=outbox.c.attempts.type) * 2).label("doubled"),
    func.now().label("now"),
))
ADD = DriverStatement(
    select(func.count().label("events")).select_from(outbox).add_cte(
        outbox.insert().values(id=bindparam("id"), topic="driver.test",
                               payload=bindparam("payload")).cte("added"))
)
COUNT = DriverStatement(select(func.count().label("events")).select_from(outbox)
                        .where(outbox.c.topic == "driver.test"))

BACKEND = DriverStatement(select(func.pg_backend_pid().label("pid")))


async def test_a_read_gives_what_a_session_gives(committed):
    params = {"payload": PAYLOAD, "price": 21}
    on_driver = await read_first(committed.reads, ECHO, **params)
    async with committed.reads() as session:
        on_session = (await session.execute(ECHO.statement, params)).first()
    assert on_driver.payload == on_session.payload == PAYLOAD
    assert on_driver.doubled == on_session.doubled == 42
    assert on_driver.now.tzinfo is not None


async def test_a_transaction_commits_whole_or_rolls_back_whole(committed):
    async with transaction(committed.db) as run:
        assert run.session is None  # on the driver: bound to an engine, no session asked for
        await run.first(ADD, id="driver-1", payload=PAYLOAD)
    with pytest.raises(RuntimeError):
        async with transaction(committed.db) as run:
            await run.first(ADD, id="driver-2", payload=PAYLOAD)
            raise RuntimeError("refused after the write")
    assert (await read_first(committed.reads, COUNT)).events == 1
    async with committed.reads() as session:
        stored = (await session.execute(
            select(OutboxEvent.payload).where(OutboxEvent.id == "driver-1"))).scalar_one()
    assert stored == PAYLOAD


async def test_a_connection_lost_midway_is_postgres_unreachable(committed):
    admin = create_engine(committed.settings.postgres_url, "admin", poolclass=NullPool)
    try:
        with pytest.raises(DBAPIError) as lost:
            async with transaction(committed.db) as run:
                await run.first(ADD, id="driver-3", payload=PAYLOAD)
                pid = (await run.first(BACKEND)).pid
                async with admin.connect() as conn:
                    await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                await run.first(COUNT)
        assert unreachable(lost.value)
    finally:
        await admin.dispose()
    assert (await read_first(committed.reads, COUNT)).events == 0
    async with transaction(committed.db) as run:
        assert (await run.first(COUNT)).events == 0
