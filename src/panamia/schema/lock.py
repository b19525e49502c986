"""The direct connection a deploy needs and the advisory lock that lets one deployer in.

The lock is polled with `pg_try_advisory_lock`, backing off with jitter, never waited on
with `pg_advisory_lock`: a blocked waiter would itself be a transaction that
CREATE INDEX CONCURRENTLY in the winner has to wait out. It is session-level because
`autocommit_block()` commits the migration's transaction, which would release an `_xact_`
lock.
"""

import asyncio
import random
import time
import zlib
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from panamia.db.postgres import create_engine
from panamia.schema.migrate import LockNotAcquired, Refused

LOCK_KEY = zlib.crc32(b"panamia db deploy")  # < 2**32, so pg_locks shows it as objid


def silent(_message: str) -> None:
    pass


def pooler_reason(url: str) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    if "pooler.supabase.com" in host:
        return "a Supabase pooler host"
    if "-pooler." in host:
        return "a Neon pooled endpoint (-pooler)"
    if parts.port == 6543:
        return "port 6543, the transaction pooler's port"
    if query.get("pgbouncer", [""])[0].lower() == "true":
        return "pgbouncer=true"
    return None


def refuse_pooler(url: str) -> None:
    reason = pooler_reason(url)
    if reason:
        raise Refused(
            f"the migration URL goes through a connection pooler ({reason}). Migrations need "
            "a direct connection: a transaction-mode pooler hands the session's advisory lock "
            "and settings to other clients. Set POSTGRES_DIRECT_URL to the direct URL "
            "(Supabase: db.<project>.supabase.co:5432; Neon: the host without -pooler).")


@asynccontextmanager
async def connected(url: str):
    """An engine and its AUTOCOMMIT control connection; the engine is disposed after."""
    engine = create_engine(url, "migrate", poolclass=NullPool)
    try:
        async with engine.connect() as control:
            await control.execution_options(isolation_level="AUTOCOMMIT")
            yield engine, control
    finally:
        await engine.dispose()


LOCK_HOLDER = text(
    "SELECT a.pid, a.application_name, a.client_addr, a.backend_start, a.state, a.query "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key "
    "AND l.objsubid = 1 AND a.pid <> pg_backend_pid() AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())")


async def lock_holder(control: AsyncConnection) -> str:
    row = (await control.execute(LOCK_HOLDER, {"key": LOCK_KEY})).first()
    if row is None:
        return "the deploy lock was released just now: run the command again"
    pid, app, addr, since, state, query = row
    return (f"the deploy lock is held by pid {pid} ({app or 'no application name'}, from "
            f"{addr or 'a local socket'}, connected {since:%Y-%m-%d %H:%M:%S %Z}, {state}: "
            f"{(query or '').strip()[:120]}). If that deploy is still running, wait for it or "
            f"raise --lock-wait; if its process is gone or stuck, end its session with "
            f"SELECT pg_terminate_backend({pid});")


@asynccontextmanager
async def deploy_lock(control: AsyncConnection, wait: float, say=silent):
    deadline = time.monotonic() + wait
    delay = 0.025
    query = text("SELECT pg_try_advisory_lock(:key)")
    while not (await control.execute(query, {"key": LOCK_KEY})).scalar():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockNotAcquired(f"waited {wait:g}s for the deploy lock: "
                                  + await lock_holder(control))
        if delay == 0.025:
            say("another deploy holds the lock; waiting for it")
        await asyncio.sleep(min(remaining, delay * random.uniform(0.5, 1.5)))
        delay = min(delay * 2, 1.0)
    try:
        yield
    finally:
        await control.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
