"""The deploy ledger: one row per attempt to apply a migration, never overwritten.

Modelled on Prisma's `_prisma_migrations`. A migration that runs in one transaction gets
its row inside that transaction, so the row commits with the migration or not at all; one
with an `autocommit_block()` gets an unfinished row first (its work commits in parts),
finished inside its last transaction. A failure leaves a row with `logs` and no
`finished_at`; it blocks `deploy` until `resolve` marks it. A rollback or a resolve stamps
`rolled_back_at` on the old row and any re-application adds a new one, so history and
checksums stay.

The table is created by `deploy` itself, not by a migration, and is left out of
autogenerate (env.py).
"""

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alembic.script import Script
from sqlalchemy import text
from sqlalchemy.engine import Connection

from panamia.schema.migrate import Migrations, Refused, name_of

LEDGER_TABLE = "panamia_migrations"
LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    migration_name text NOT NULL,
    checksum text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    applied_steps_count integer NOT NULL DEFAULT 0,
    rolled_back_at timestamptz,
    applied_by text NOT NULL,
    logs text,
    allow_modified boolean NOT NULL DEFAULT false
)"""

APPLIED, PENDING, MODIFIED, FAILED, MISSING, APPLYING = (
    "applied", "pending", "modified", "failed", "missing", "applying")
PROBLEMS = (MODIFIED, FAILED, MISSING)


def applied_by() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


@dataclass(frozen=True)
class Row:
    migration_name: str
    checksum: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    applied_steps_count: int = 0
    rolled_back_at: datetime | None = None
    applied_by: str = ""
    logs: str | None = None
    allow_modified: bool = False
    id: int | None = None

    @property
    def outcome(self) -> str:
        if self.finished_at is None:
            return "failed, rolled back" if self.rolled_back_at else FAILED
        return "rolled back" if self.rolled_back_at else APPLIED

    @property
    def failed(self) -> bool:
        """Whether this attempt stopped before it finished (rolled back since, or not)."""
        return self.finished_at is None


@dataclass(frozen=True)
class Entry:
    """One migration as `status` sees it: the file (if any) against its latest ledger row."""

    name: str
    state: str
    checksum: str | None
    row: Row | None

    def as_dict(self) -> dict:
        row = self.row
        return {
            "name": self.name,
            "state": self.state,
            "checksum": self.checksum,
            "ledger_checksum": row.checksum if row else None,
            "applied_at": row.finished_at.isoformat() if row and row.finished_at else None,
            "applied_by": row.applied_by if row else None,
            # the error of a failed attempt, also once it is pending again
            "logs": row.logs if row and row.failed else None,
        }


def classify(migrations: list[tuple[str, str]], rows: list[Row],
             deploy_running: bool = False) -> list[Entry]:
    """`migrations` are (name, checksum) in order, `rows` the ledger, oldest first. While
    another session holds the deploy lock, an unfinished row is being applied, not failed."""
    latest = {row.migration_name: row for row in rows}
    entries = []
    for name, checksum in migrations:
        row = latest.pop(name, None)
        if row is None or row.rolled_back_at:
            state = PENDING
        elif row.finished_at is None:
            state = APPLYING if deploy_running else FAILED
        else:
            state = APPLIED if row.checksum == checksum else MODIFIED
        entries.append(Entry(name, state, checksum, row))
    for name, row in sorted(latest.items()):
        if not row.rolled_back_at:
            entries.append(Entry(name, MISSING, None, row))
    return entries


def exists(conn: Connection) -> bool:
    return conn.execute(text(f"SELECT to_regclass('{LEDGER_TABLE}') IS NOT NULL")).scalar()


def tables(conn: Connection) -> tuple[bool, bool]:
    """Whether alembic_version and the ledger exist, in one round trip."""
    return tuple(conn.execute(text(
        f"SELECT to_regclass('alembic_version') IS NOT NULL, "
        f"to_regclass('{LEDGER_TABLE}') IS NOT NULL")).one())


def alembic_heads(conn: Connection) -> tuple[str, ...]:
    return tuple(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def read(conn: Connection) -> list[Row]:
    if not exists(conn):
        return []
    return _rows(conn)


def _rows(conn: Connection) -> list[Row]:
    result = conn.execute(text(
        f"SELECT migration_name, checksum, started_at, finished_at, applied_steps_count, "
        f"rolled_back_at, applied_by, logs, allow_modified, id FROM {LEDGER_TABLE} ORDER BY id"))
    return [Row(*r) for r in result]


def create(conn: Connection, rows: list[Row]) -> None:
    """Create the ledger with `rows` (call in a transaction, under the deploy lock)."""
    conn.execute(text(LEDGER_DDL))
    for row in rows:
        insert(conn, row)


INSERT = (
    f"INSERT INTO {LEDGER_TABLE} (migration_name, checksum, started_at, finished_at, "
    "rolled_back_at, applied_steps_count, applied_by, logs, allow_modified) VALUES ($1, $2, "
    "coalesce($3::timestamptz, now()), CASE WHEN $4 THEN clock_timestamp() END, "
    "CASE WHEN $5 THEN clock_timestamp() END, $6, $7, $8, $9) RETURNING id")


def insert(conn: Connection, row: Row) -> int:
    """Add `row`; its times are the database's: started at the transaction's start (or at
    `row.started_at` when given), finished and rolled back now if those of `row` are set."""
    # Driver SQL: it runs once per migration, inside its transaction, and skips compiling.
    return conn.exec_driver_sql(INSERT, (
        row.migration_name, row.checksum, row.started_at, row.finished_at is not None,
        row.rolled_back_at is not None, row.applied_steps_count, row.applied_by, row.logs,
        row.allow_modified)).scalar_one()


def finish(conn: Connection, row_id: int) -> None:
    conn.execute(text(f"UPDATE {LEDGER_TABLE} SET finished_at = clock_timestamp(), "
                      "applied_steps_count = 1 WHERE id = :id"), {"id": row_id})


def fail(conn: Connection, row_id: int, logs: str) -> None:
    conn.execute(text(f"UPDATE {LEDGER_TABLE} SET logs = "
                      "concat_ws(E'\\n', logs, CAST(:logs AS text)) WHERE id = :id"),
                 {"id": row_id, "logs": logs})


def roll_back(conn: Connection, row_id: int, logs: str) -> None:
    conn.execute(text(f"UPDATE {LEDGER_TABLE} SET rolled_back_at = clock_timestamp(), "
                      "logs = concat_ws(E'\\n', logs, CAST(:logs AS text)) WHERE id = :id"),
                 {"id": row_id, "logs": logs})


@dataclass
class State:
    """The migration files against the ledger and alembic_version of one database."""

    migrations: Migrations
    rows: list[Row]
    heads: tuple[str, ...]
    ledger_exists: bool
    deploy_running: bool = False
    entries: list[Entry] = field(init=False)

    def __post_init__(self):
        self.entries = classify(self.migrations.pairs(), self.rows, self.deploy_running)
        self._by_name = {e.name: e for e in self.entries}

    def entry(self, name: str) -> Entry | None:
        return self._by_name.get(name)

    def applied(self) -> list[Script]:
        return [r for r in self.migrations.revisions
                if self._by_name[name_of(r)].state in (APPLIED, MODIFIED)]

    def problems(self) -> list[Entry]:
        return [e for e in self.entries if e.state in PROBLEMS]


def read_state(conn: Connection, migrations: Migrations, deploy_running: bool = False) -> State:
    has_versions, has_ledger = tables(conn)
    heads = alembic_heads(conn) if has_versions else ()
    if has_ledger:
        return State(migrations, _rows(conn), heads, True, deploy_running)
    # A database migrated before the ledger existed: alembic_version says how far it got,
    # and `deploy` writes these rows when it creates the ledger.
    ids = [r.revision for r in migrations.revisions]
    upto = ids.index(heads[0]) + 1 if len(heads) == 1 and heads[0] in ids else 0
    rows = [Row(name, checksum, finished_at=datetime.now(UTC), applied_steps_count=1,
                applied_by=applied_by(), logs="recorded from alembic_version")
            for name, checksum in migrations.pairs()[:upto]]
    return State(migrations, rows, heads, False, deploy_running)


def refuse_failed(state: State) -> None:
    for entry in state.entries:
        if entry.state == FAILED:
            row = entry.row
            logs = (row.logs or "no log: the deploy was interrupted").strip().splitlines()
            raise Refused(
                f"{entry.name} failed after part of it may have committed (started "
                f"{row.started_at:%Y-%m-%d %H:%M:%S %Z} by {row.applied_by}: {logs[0]}). "
                "Its autocommit_block() commits as it goes, so no rollback undid what ran "
                "before the failure, and running it again could skip or repeat that part "
                "(an index left INVALID by a failed CREATE INDEX CONCURRENTLY, say). Check "
                "the database, finish or undo that part by hand, then record what you did: "
                f"{resolve_commands(entry.name)}")


def resolve_commands(name: str) -> str:
    return (f"`panamia db resolve {name} --rolled-back` if nothing of it remains (deploy will "
            f"run it again), or `panamia db resolve {name} --applied` if you completed it by "
            "hand.")


def refuse_modified(entries: list[Entry], allow_modified: bool, what: str = "migrations"
                    ) -> str | None:
    """Refuse unless allowed; return the note a deploy with --allow-modified records."""
    modified = [e.name for e in entries if e.state == MODIFIED]
    if modified and not allow_modified:
        raise Refused(
            f"applied {what} were changed after they were applied: {', '.join(modified)} "
            "(checksum differs from the ledger). Restore them (git checkout) and put the "
            "change in a new one, or deploy with --allow-modified (recorded in the ledger).")
    return f"deployed with --allow-modified; modified: {', '.join(modified)}" if modified else None


def pending(state: State, target: str = "head", check_heads: bool = True) -> list[Script]:
    """The pending revisions up to `target`, after checking the ledger and alembic_version
    agree on what has been applied (only meaningful under the deploy lock)."""
    applied = state.applied()
    revisions = state.migrations.revisions
    if applied != revisions[: len(applied)]:
        first = next(r for r in revisions if r not in applied)
        raise Refused(f"{name_of(first)} is not applied but later migrations are: "
                      "migrations must be applied in order")
    expected = (applied[-1].revision,) if applied else ()
    if check_heads and state.ledger_exists and state.heads != expected:
        raise Refused(
            f"the ledger says {expected[0] if expected else 'nothing'} is the latest applied "
            f"migration but alembic_version holds {', '.join(state.heads) or 'nothing'}: was "
            "Alembic run by hand? Bring them back in line (`alembic stamp`) before deploying.")
    return [r for r in state.migrations.upto(target) if r not in applied]
