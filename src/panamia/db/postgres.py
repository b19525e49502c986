"""The PostgreSQL engine and session factory, one per process."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


Sessionmaker = async_sessionmaker[AsyncSession]

# libpq options asyncpg does not understand, translated or dropped.
_SSLMODE_TO_ASYNCPG = {"disable": "disable", "allow": "allow", "prefer": "prefer",
                       "require": "require", "verify-ca": "verify-ca",
                       "verify-full": "verify-full"}
_LIBPQ_ONLY = {"channel_binding", "connect_timeout", "options", "application_name"}


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
        elif key not in _LIBPQ_ONLY:
            query.append((key, value))
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, urlencode(query), ""))


def create_engine(url: str, application_name: str, **kwargs) -> AsyncEngine:
    """An engine whose connections name the process in pg_stat_activity and speak UTC."""
    return create_async_engine(
        async_url(url),
        pool_pre_ping=True,
        connect_args={
            "server_settings": {"application_name": application_name, "timezone": "UTC"}
        },
        **kwargs,
    )


def create_sessionmaker(bind) -> Sessionmaker:
    return async_sessionmaker(bind, expire_on_commit=False)
