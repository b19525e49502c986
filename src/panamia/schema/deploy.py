"""Apply, roll back and resolve migrations so that concurrent deployers cannot collide.

How it works (after Atlas, Flyway and Prisma; shared/research/migration-anchors.md):

* One connection to a direct (non-pooled) URL. In AUTOCOMMIT it reads the ledger and takes
  a session-level advisory lock, which outlives the transactions that follow; then it runs
  the migrations, each in its own transaction with its ledger row, Alembic driven one
  revision at a time (`migrate.run_steps`) so alembic_version stays right for Alembic's own
  commands. (A second connection would cost a deploy milliseconds: a new backend process,
  and over a network a TLS handshake and SCRAM authentication.) `rollback` and `resolve`
  hold the lock on a control connection and work on a second one.
* The lock (panamia.schema.lock) is polled, never waited on. Nothing pending means no lock
  at all; once won, the ledger is read again, so a deployer that waited finds the work done
  and returns.
* Each migration runs under a short `lock_timeout`; on SQLSTATE 55P03 it is rolled back
  and retried after a pause, then recorded as failed with the table it was blocked on.
"""

import asyncio
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import Script
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from panamia.db.mongo import MongoDatabase
from panamia.schema import ledger, mongo_steps
from panamia.schema.files import MigrationFile
from panamia.schema.ledger import FAILED, PENDING, State, read_state
from panamia.schema.lock import (
    LOCK_HOLDER,
    LOCK_KEY,
    connected,
    deploy_lock,
    refuse_pooler,
    silent,
)
from panamia.schema.migrate import (  # noqa: F401 - the errors are part of this API
    VERSION_TABLE_DDL,
    VERSIONS_DIR,
    LockNotAcquired,
    MigrationError,
    MigrationFailed,
    Migrations,
    Refused,
    name_of,
    run_steps,
)

LOCK_NOT_AVAILABLE = "55P03"
TRANSACTIONS = "READ COMMITTED"  # the isolation the migrations run in, PostgreSQL's default


def prepare(work: Connection, state: State, lock_timeout: str, statement_timeout: str) -> None:
    """Under the lock: create alembic_version and the ledger (with the rows of what
    alembic_version says was applied before it existed); set the session's timeouts."""
    with work.begin():
        work.execute(text(VERSION_TABLE_DDL))
        if not state.ledger_exists:
            ledger.create(work, state.rows)
        # client_connection_check_interval (PostgreSQL 14+): if this process dies
        # mid-statement, its backend notices within a second and rolls back, instead of
        # finishing a long CREATE INDEX under the next deploy's feet.
        work.execute(text(
            "SELECT set_config('lock_timeout', :lock, false), "
            "set_config('statement_timeout', :statement, false), "
            "CASE WHEN current_setting('server_version_num')::int >= 140000 THEN "
            "set_config('client_connection_check_interval', '1s', false) END"),
            {"lock": lock_timeout, "statement": statement_timeout})


def blocked_on(conn: Connection, statement: str | None) -> str:
    """The tables the blocked statement names that other sessions hold locks on."""
    rows = conn.execute(text(
        "SELECT c.relname, l.mode, l.pid, a.application_name FROM pg_locks l "
        "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.granted AND l.pid <> pg_backend_pid() "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY c.relname")).all()
    named = [r for r in rows if re.search(rf"\b{re.escape(r[0])}\b", statement or "", re.IGNORECASE)]
    if not (named or rows):
        return "the blocking lock was released before it could be identified"
    return "blocked on " + "; ".join(
        f"table {relname} ({mode} held by pid {pid}, {app or 'no application name'}; end it "
        f"with SELECT pg_terminate_backend({pid});)"
        for relname, mode, pid, app in (named or rows)[:3])


def describe(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    statement = getattr(exc, "statement", None)
    kind = getattr(orig, "sqlstate", None) or type(exc).__name__
    return f"{kind}: {message}" + (
        f"\nstatement: {statement.strip()[:500]}" if statement else "")


def apply_all(work: Connection, migrations: Migrations, revisions: list[Script], *,
              allow_modified: bool, note: str | None, lock_timeout: str, lock_retries: int,
              retry_wait: float, say) -> list[str]:
    """Apply `revisions` in order, each in its own transaction; return their names.

    A migration's ledger row is written inside its transaction: if it fails, or the process
    dies, PostgreSQL rolls both back, so nothing of it remains and it can simply run again
    (a failure is recorded as a rolled-back attempt). An `autocommit_block()` commits part of
    the migration on the way, so as the migration enters one its row is started, committing
    with what precedes the block: from there a failure, or a death, leaves that row
    unfinished, which stops the next deploy until someone looks (`resolve`).
    """
    started_at: dict[str, datetime] = {}
    committing: dict[str, int] = {}  # ledger row of each migration past an autocommit_block()
    done: list[str] = []
    current: list[str] = []  # the revision whose transaction is open
    by = ledger.applied_by()

    def row(name: str, **fields) -> ledger.Row:
        return ledger.Row(name, migrations.checksums[name], applied_by=by,
                          allow_modified=allow_modified, **fields)

    def each():
        for revision in revisions[len(done):]:
            if current:
                done.append(current.pop())  # its transaction has committed
            name = name_of(revision)
            if name not in started_at:
                say(f"applying {name}")
                started_at[name] = datetime.now(UTC)
            current.append(name)
            yield revision

    def autocommitting():
        name = current[0]
        if name not in committing:
            committing[name] = ledger.insert(work, row(
                name, started_at=started_at[name], logs=note))

    def finished(ctx, step, heads, run_args):
        name = current[0]
        if name in committing:
            ledger.finish(ctx.connection, committing[name])
        else:
            ledger.insert(ctx.connection, row(name, finished_at=datetime.now(UTC),
                                              applied_steps_count=1, logs=note))

    attempts: dict[str, int] = {}
    while len(done) < len(revisions):
        current.clear()
        try:
            run_steps(work, migrations.config, migrations.script, each(), upgrade=True,
                      on_applied=finished, on_autocommit=autocommitting)
            done.extend(current)
        except Exception as exc:
            if not current:
                raise
            name = current[0]
            sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
            retries = attempts.get(name, 0)
            if sqlstate == LOCK_NOT_AVAILABLE and retries < lock_retries and \
                    name not in committing:
                attempts[name] = retries + 1
                pause = retry_wait * 2 ** retries * random.uniform(0.5, 1.5)
                say(f"{name}: lock timeout ({lock_timeout}), retrying in {pause:.1f}s")
                time.sleep(pause)
                continue
            logs = describe(exc)
            with work.begin():  # run_steps rolled the migration back
                if sqlstate == LOCK_NOT_AVAILABLE:
                    logs += (f"\nlock timeout ({lock_timeout}) {retries + 1} times, "
                             + blocked_on(work, getattr(exc, "statement", None)))
                if name in committing:
                    ledger.fail(work, committing[name], logs)
                else:
                    ledger.insert(work, row(
                        name, started_at=started_at[name], rolled_back_at=datetime.now(UTC),
                        logs="\n".join(filter(None, [note, logs]))))
            if name in committing:
                raise MigrationFailed(
                    f"{name} failed after its autocommit_block() began committing: {logs}\n"
                    "The ledger records the failure and deploy refuses until it is resolved. "
                    "Check what of it was committed, finish or undo that by hand, then "
                    + ledger.resolve_commands(name)) from exc
            raise MigrationFailed(
                f"{name} failed and its transaction was rolled back, so nothing of it "
                f"remains: {logs}\nThe ledger records the attempt; the next deploy runs it "
                "again (fix the cause first, unless it was a passing lock).") from exc
    return done


async def switch_isolation(conn: AsyncConnection, level: str) -> None:
    """Change `conn`'s isolation level, ending what it has open (in AUTOCOMMIT: nothing)."""
    await conn.rollback()
    await conn.execution_options(isolation_level=level)


@dataclass
class Deployed:
    applied: list[str]
    mongo_applied: list[str]
    locked: bool


async def deploy(url: str, versions_dir: Path = VERSIONS_DIR, *, target: str = "head",
                 mongo: MongoDatabase | None = None,
                 mongo_steps_dir: Path = mongo_steps.STEPS_DIR, lock_wait: float = 60.0,
                 allow_modified: bool = False, lock_timeout: str = "3s",
                 statement_timeout: str = "15min", lock_retries: int = 3,
                 retry_wait: float = 1.0, say=silent) -> Deployed:
    """Apply pending PostgreSQL migrations, then (when `mongo` is given) MongoDB steps."""
    refuse_pooler(url)
    migrations = Migrations.load(url, versions_dir)
    async with connected(url) as (_engine, conn):
        # Before the lock an unfinished row may belong to a deploy in progress: failures
        # and the alembic_version cross-check wait until the lock is ours.
        state = await conn.run_sync(read_state, migrations)
        ledger.refuse_modified(state.entries, allow_modified)
        todo = ledger.pending(state, target, check_heads=False)
        todo_mongo = []
        if mongo is not None:
            entries = await mongo_steps.entries(mongo, mongo_steps_dir)
            ledger.refuse_modified(entries, allow_modified, "MongoDB steps")
            todo_mongo = [e for e in entries if e.state == PENDING]
        if not todo and not todo_mongo:
            return Deployed([], [], locked=False)
        async with deploy_lock(conn, lock_wait, say):
            state = await conn.run_sync(read_state, migrations)
            ledger.refuse_failed(state)
            note = ledger.refuse_modified(state.entries, allow_modified)
            await switch_isolation(conn, TRANSACTIONS)
            try:
                await conn.run_sync(prepare, state, lock_timeout, statement_timeout)
                applied = await conn.run_sync(
                    apply_all, migrations, ledger.pending(state, target),
                    allow_modified=allow_modified, note=note, lock_timeout=lock_timeout,
                    lock_retries=lock_retries, retry_wait=retry_wait, say=say)
            finally:
                await switch_isolation(conn, "AUTOCOMMIT")
            applied_mongo = []
            if mongo is not None:
                ledger.refuse_modified(await mongo_steps.entries(mongo, mongo_steps_dir),
                                       allow_modified, "MongoDB steps")
                applied_mongo = await mongo_steps.apply_pending(
                    mongo, mongo_steps_dir, allow_modified=allow_modified, say=say)
        return Deployed(applied, applied_mongo, locked=True)


def upgrade(postgres_url: str, revision: str = "head") -> None:
    """Apply pending migrations up to `revision`: the one call tests and `panamia dev` use."""
    asyncio.run(deploy(postgres_url, target=revision))


async def status(url: str, versions_dir: Path = VERSIONS_DIR) -> State:
    migrations = Migrations.load(url, versions_dir)
    async with connected(url) as (_engine, conn):
        running = (await conn.execute(LOCK_HOLDER, {"key": LOCK_KEY})).first() is not None
        return await conn.run_sync(read_state, migrations, running)


async def history(url: str) -> list[ledger.Row]:
    async with connected(url) as (_engine, conn):
        return await conn.run_sync(ledger.read)


async def rollback(url: str, versions_dir: Path = VERSIONS_DIR, *, steps: int | None = None,
                   to: str | None = None, lock_wait: float = 60.0, lock_timeout: str = "3s",
                   statement_timeout: str = "15min", say=silent) -> list[str]:
    """Run the downgrades of the last `steps` applied migrations (default 1), or of every
    migration after `to` (`base`: all of them); return their names, newest first."""
    refuse_pooler(url)
    migrations = Migrations.load(url, versions_dir)
    async with (connected(url) as (engine, control), deploy_lock(control, lock_wait, say),
                engine.connect() as work):
        await work.run_sync(prepare, await control.run_sync(read_state, migrations),
                            lock_timeout, statement_timeout)
        state = await control.run_sync(read_state, migrations)  # with the rows' ids
        ledger.refuse_failed(state)
        ledger.pending(state)
        targets = _rollback_targets(state, steps, to)
        rows = {e.name: e.row for e in state.entries}
        current: list[str] = []
        by = ledger.applied_by()

        def each():
            for revision in targets:
                current[:] = [name_of(revision)]
                say(f"rolling back {current[0]}")
                yield revision

        def rolled_back(ctx, step, heads, run_args):
            ledger.roll_back(ctx.connection, rows[current[0]].id, f"rolled back by {by}")

        try:
            await work.run_sync(run_steps, migrations.config, migrations.script, each(),
                                upgrade=False, on_applied=rolled_back)
        except Exception as exc:
            if not current:
                raise
            raise MigrationFailed(
                f"rolling back {current[0]} failed and its transaction was rolled back (the "
                f"migrations rolled back before it stay so): {describe(exc)}") from exc
    return [name_of(r) for r in targets]


def _rollback_targets(state: State, steps: int | None, to: str | None) -> list[Script]:
    applied = state.applied()
    names = [name_of(r) for r in applied]
    if to is not None:
        if to != "base" and to not in names:
            raise Refused(f"{to} is not an applied migration")
        targets = applied[names.index(to) + 1:] if to != "base" else applied
    elif steps is not None and steps < 1:
        raise Refused("--steps must be at least 1")
    else:
        targets = applied[-(steps or 1):] if applied else []
    for revision in targets:
        if MigrationFile.read(Path(revision.path)).reversible == "No":
            raise Refused(f"{name_of(revision)} says `Reversible: No`: write a new migration "
                          "that undoes what you need instead")
    return list(reversed(targets))


async def resolve(url: str, name: str, *, applied: bool, versions_dir: Path = VERSIONS_DIR,
                  lock_wait: float = 60.0) -> None:
    """Mark a failed migration rolled back, or applied (stamping alembic_version), keeping
    the failed row and its checksum, as Prisma's `migrate resolve` does."""
    refuse_pooler(url)
    migrations = Migrations.load(url, versions_dir)
    async with connected(url) as (engine, control), deploy_lock(control, lock_wait):
        state = await control.run_sync(read_state, migrations)
        entry = state.entry(name)
        if entry is None or entry.state != FAILED:
            raise Refused(f"{name} is {entry.state if entry else 'unknown'}, not failed: "
                          "resolve only marks a failed migration")
        if applied and migrations.named(name) is None:
            raise Refused(f"{name} has no file: it cannot be marked applied")
        async with engine.connect() as work:
            await work.run_sync(_resolve, migrations, entry, applied)


def _resolve(work: Connection, migrations: Migrations, entry: ledger.Entry,
             applied: bool) -> None:
    by = ledger.applied_by()
    with work.begin():
        ledger.roll_back(work, entry.row.id,
                         f"resolved as {'applied' if applied else 'rolled back'} by {by}")
        if not applied:
            return
        revision = migrations.named(entry.name)
        work.execute(text(VERSION_TABLE_DDL))
        context = MigrationContext.configure(work)
        expected = tuple(r for r in (revision.down_revision,) if r)
        if context.get_current_heads() != expected:
            raise Refused(f"alembic_version is not at {expected or 'base'}, the migration "
                          f"before {entry.name}: cannot mark it applied")
        context.stamp(migrations.script, revision.revision)
        ledger.insert(work, ledger.Row(
            entry.name, migrations.checksums[entry.name], finished_at=datetime.now(UTC),
            applied_by=by, logs="marked applied by `panamia db resolve --applied`"))
