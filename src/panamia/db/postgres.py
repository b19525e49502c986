"""The PostgreSQL engine and session factory, one per process."""

import time
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cuid2 import create_id
from sqlalchemy import DateTime, MetaData, event, exc, func
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    return create_id()


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


Sessionmaker = async_sessionmaker[AsyncSession]

# libpq options asyncpg does not understand, translated or dropped (connect_timeout is
# passed on by `create_engine`).
_SSLMODE_TO_ASYNCPG = {"disable": "disable", "allow": "allow", "prefer": "prefer",
                       "require": "require", "verify-ca": "verify-ca",
                       "verify-full": "verify-full"}
_LIBPQ_ONLY = {"channel_binding", "connect_timeout", "options", "application_name"}
# Not a libpq option: says that the URL reaches PostgreSQL through a transaction-mode pooler
# (the name Prisma's users know), read by `through_pooler`.
POOLER_PARAMETER = "pgbouncer"


def async_url(url: str) -> str:
    """Turn a libpq-style POSTGRES_URL (as Neon, Supabase or psql take it) into an asyncpg URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in ("postgres", "postgresql"):
        raise ValueError(f"POSTGRES_URL must start with postgresql://, not {parts.scheme}://")
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "sslmode":
            query.append(("ssl", _SSLMODE_TO_ASYNCPG.get(value, value)))
        elif key not in _LIBPQ_ONLY and key != POOLER_PARAMETER:
            query.append((key, value))
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, urlencode(query), ""))


# How long connecting may take unless POSTGRES_URL says otherwise (libpq's connect_timeout).
# asyncpg would wait a minute for a server that does not answer, and every request with it.
CONNECT_TIMEOUT = 10.0  # seconds


def connect_timeout(url: str) -> float:
    given = dict(parse_qsl(urlsplit(url).query)).get("connect_timeout")
    return float(given) if given else CONNECT_TIMEOUT


def through_pooler(url: str) -> bool:
    """Whether `url` says `pgbouncer=true`: PostgreSQL is behind a transaction-mode pooler."""
    given = dict(parse_qsl(urlsplit(url).query)).get(POOLER_PARAMETER, "")
    return given.lower() == "true"


# Behind a transaction-mode pooler (PgBouncer before 1.21, Supabase's, Neon's) consecutive
# transactions, and even the round trips of one statement outside a transaction, may each
# reach a different server connection, and a named prepared statement lives in only one.
# So no statement is kept: asyncpg's and SQLAlchemy's caches are off, and the statement has
# no name. asyncpg then sends an unnamed statement's Parse again in the same round trip as
# its Bind and Execute, so it always runs where it was parsed. Named statements with unique
# names (SQLAlchemy's recipe) fail on an AUTOCOMMIT connection and pile up on the servers,
# since PgBouncer 1.18 never resets a server connection in transaction mode.
POOLER_CONNECT_ARGS = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": lambda: "",
}

# A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE = 1.0  # seconds
_LAST_USED = "panamia_last_used"


def create_engine(url: str, application_name: str, **kwargs) -> AsyncEngine:
    """An engine whose connections name the process in pg_stat_activity and speak UTC, and
    keep no prepared statement when the URL goes through a pooler (`pgbouncer=true`)."""
    connect_args = {
        "server_settings": {"application_name": application_name, "timezone": "UTC"},
        "timeout": connect_timeout(url),
    }
    if through_pooler(url):
        connect_args |= POOLER_CONNECT_ARGS
    engine = create_async_engine(async_url(url), connect_args=connect_args, **kwargs)
    _ping_idle_connections(engine)
    _flag_unreachable_server(engine)
    return engine


# SQLSTATEs of a server that cannot serve the connection: class 08 (connection exception),
# and shutting down, restarted after a crash, starting up (57P01, 57P02, 57P03).
_SERVER_GONE = ("08", "57P01", "57P02", "57P03")
CANNOT_CONNECT = "08001"


def unreachable(error: BaseException) -> bool:
    """Whether `error` says PostgreSQL could not be reached, rather than that a statement
    failed: the answer is then 503, and trying again later is the remedy."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _flag_unreachable_server(engine: AsyncEngine) -> None:
    """Make every failure to reach the server one kind of error: a `DBAPIError` with
    `connection_invalidated` set, which `unreachable` recognises.

    SQLAlchemy sets that flag when a connection in use drops. asyncpg raises a refused
    connection, a missing socket or a connect timeout as a bare `OSError` that SQLAlchemy
    passes through; it is turned here into the driver's own error, with the SQLSTATE
    libpq gives it (08001), so that SQLAlchemy wraps it like any database error. A server
    that answers but is shutting down or starting up says so by SQLSTATE.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _connect(dialect, connection_record, cargs, cparams):
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as error:
            failure = dialect.loaded_dbapi.OperationalError(
                f"cannot connect to PostgreSQL: {type(error).__name__}: {error}", error
            )
            failure.sqlstate = failure.pgcode = CANNOT_CONNECT
            raise failure from error

    @event.listens_for(sync_engine, "handle_error")
    def _flag(context) -> None:
        sqlstate = getattr(context.original_exception, "sqlstate", None) or ""
        if sqlstate.startswith(_SERVER_GONE):
            context.is_disconnect = True


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """`pool_pre_ping`, skipped for a connection that was in use less than a second ago.

    SQLAlchemy's pre-ping costs every checkout a round trip, three with asyncpg (BEGIN, an
    empty query, ROLLBACK), which tripled the cost of a request that needs one query. A
    connection that just finished a statement is alive, unless the server has closed it
    since (a stop or restart, which the driver notices without a round trip); one that sat
    idle (a quiet service, or a proxy that dropped idle connections without a word) is
    pinged exactly as pre-ping would, and a dead one is replaced, with the rest of the pool,
    before use.
    HikariCP skips its liveness check the same way (`aliveBypassWindowMs`).
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _remember_last_use(dbapi_connection, record) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # The server closed it (stopped, restarted): known without a round trip.
            raise exc.InvalidatePoolError()
        last_used = record.info.get(_LAST_USED)
        if last_used is None or time.monotonic() - last_used < PING_AFTER_IDLE:
            return  # just opened, or just used
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # As pre-ping does: drop every pooled connection older than now, reconnect.
                raise exc.InvalidatePoolError() from error
            raise


def create_sessionmaker(bind) -> Sessionmaker:
    return async_sessionmaker(bind, expire_on_commit=False)


def violation(exc: DBAPIError) -> tuple[str | None, str | None]:
    """(SQLSTATE, constraint name) of a database error, to translate it into a domain error."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None), getattr(orig.__cause__, "constraint_name", None)
