"""Statements sent straight to asyncpg, for the few paths every request takes.

SQLAlchemy builds and compiles them, once; at run time asyncpg only binds and executes a
statement it has prepared on that connection. Measured against the same statements through
an `AsyncSession`: a one-statement read costs about a third of the CPU, and BEGIN, two
statements and COMMIT about a third too (`bench/session.py`, `bench/bookings.py`). Values
go through the statement's SQLAlchemy types both ways (JSON in and out, numerics), so a row
reads the same on either path.

Where `Sessionmaker` is bound to one connection rather than an engine (tests, each inside a
transaction rolled back afterwards), the same statements run through a session on it.
"""

from collections import namedtuple
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from panamia.db.postgres import Sessionmaker

_DIALECT = asyncpg_dialect()


class DriverStatement:
    """A SELECT (or a WITH … SELECT that writes), compiled once for asyncpg. Its rows are
    named tuples of the selected columns' keys, as SQLAlchemy's `Row` reads."""

    def __init__(self, statement: Select):
        compiled = statement.compile(dialect=_DIALECT)
        self.statement = statement
        self.sql = str(compiled)
        self._compiled = compiled
        self._binds = [(name, compiled.binds[name].type.bind_processor(_DIALECT))
                       for name in compiled.positiontup or ()]
        columns = statement.selected_columns
        self._results = [column.type.result_processor(_DIALECT, None) for column in columns]
        self._row = namedtuple("Row", [column.key for column in columns], rename=True)

    def arguments(self, params: Mapping[str, Any]) -> list:
        values = self._compiled.construct_params(params)
        return [values[name] if process is None else process(values[name])
                for name, process in self._binds]

    def row(self, record) -> tuple | None:
        if record is None:
            return None
        return self._row(*(value if process is None else process(value)
                           for value, process in zip(record, self._results)))


class Statements(Protocol):
    """Runs `DriverStatement`s in one transaction; `session` is set on the session path."""

    session: AsyncSession | None

    async def first(self, statement: DriverStatement, **params): ...


class _OnDriver:
    session = None

    def __init__(self, connection):
        self.connection = connection

    async def first(self, statement: DriverStatement, **params):
        return statement.row(await self.connection.fetchrow(
            statement.sql, *statement.arguments(params)))


class _OnSession:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def first(self, statement: DriverStatement, **params):
        return (await self.session.execute(statement.statement, params)).first()


async def read_first(reads: Sessionmaker, statement: DriverStatement, **params):
    """One read, in the implicit transaction of its one statement. A read that fails on the
    driver, its connection dropped, goes once more through SQLAlchemy, which reconnects, or
    fails as the app knows how to answer (503 while PostgreSQL is down)."""
    bind = reads.kw["bind"]
    if isinstance(bind, AsyncEngine):
        try:
            pooled = await bind.raw_connection()
            fetched = False
            try:
                row = await _OnDriver(pooled.driver_connection).first(statement, **params)
                fetched = True
                return row
            finally:
                await greenlet_spawn(pooled.close if fetched else pooled.invalidate)
        except Exception:  # noqa: BLE001 - answered by the read below
            pass
    async with reads() as session:
        return await _OnSession(session).first(statement, **params)


@asynccontextmanager
async def transaction(sessions: Sessionmaker, *, session: bool = False
                      ) -> AsyncIterator[Statements]:
    """BEGIN … COMMIT (ROLLBACK on an exception) on a pooled driver connection; through
    `sessions.begin()` when `session` is asked for (a caller that also runs SQLAlchemy
    statements), when bound to one connection, or when no pooled connection can be had (the
    session then fails as the app knows how to answer). A connection lost on the way raises
    SQLAlchemy's error for it, as the session path would."""
    bind = sessions.kw["bind"]
    pooled = None
    if not session and isinstance(bind, AsyncEngine):
        try:
            pooled = await bind.raw_connection()
        except Exception:  # noqa: BLE001 - the session below fails the way the app answers
            pooled = None
    if pooled is None:
        async with sessions.begin() as opened:
            yield _OnSession(opened)
        return
    connection = pooled.driver_connection
    try:
        async with connection.transaction():
            yield _OnDriver(connection)
    except Exception as error:
        if connection.is_closed():
            raise DBAPIError(None, None, error, connection_invalidated=True) from error
        raise
    finally:
        await greenlet_spawn(pooled.invalidate if connection.is_closed() else pooled.close)
