"""Alembic, configured from code: no alembic.ini to keep in step with the settings.

`deploy` (panamia.schema.deploy) drives Alembic one revision at a time on a connection it
owns, through `run_steps`; env.py is for Alembic's own commands (autogenerate, check,
pytest-alembic) and the benchmark's plain `alembic upgrade head`.
"""

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from panamia.schema.files import checksum

SCRIPT_LOCATION = Path(__file__).parent
VERSIONS_DIR = SCRIPT_LOCATION / "versions"
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d%%(hour).2d%%(minute).2d%%(second).2d_%%(slug)s"

# Revision ids are `YYYYMMDDHHMMSS_snake_case`, longer than Alembic's default VARCHAR(32).
VERSION_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS alembic_version ("
    "version_num VARCHAR(255) NOT NULL CONSTRAINT alembic_version_pkc PRIMARY KEY)"
)


def alembic_config(postgres_url: str, versions_dir: Path = VERSIONS_DIR) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_locations", str(versions_dir))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    config.set_main_option("path_separator", "os")
    config.attributes["postgres_url"] = postgres_url
    return config


class MigrationError(RuntimeError):
    """A deploy, rollback or resolve that stopped; the message says what to do."""


class Refused(MigrationError):
    pass


class LockNotAcquired(MigrationError):
    pass


class MigrationFailed(MigrationError):
    pass


@cache
def name_of(revision: Script) -> str:
    """The ledger's name for a revision: its file name (which is also its revision id)."""
    return Path(revision.path).stem


@dataclass
class Migrations:
    """The migration files in Alembic's order (base to head), with their checksums."""

    config: Config
    script: ScriptDirectory
    revisions: list[Script]
    checksums: dict[str, str]

    @classmethod
    def load(cls, postgres_url: str, versions_dir: Path = VERSIONS_DIR) -> "Migrations":
        config = alembic_config(postgres_url, versions_dir)
        script = ScriptDirectory.from_config(config)
        heads = script.get_heads()
        if len(heads) > 1:
            raise Refused(f"the migrations have {len(heads)} heads ({', '.join(heads)}): "
                          "make one depend on the other")
        revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
        return cls(config, script, revisions,
                   {name_of(r): checksum(Path(r.path).read_bytes()) for r in revisions})

    def pairs(self) -> list[tuple[str, str]]:
        return list(self.checksums.items())

    def named(self, name: str) -> Script | None:
        return next((r for r in self.revisions if name_of(r) == name), None)

    def upto(self, target: str) -> list[Script]:
        if target in ("head", "heads"):
            return self.revisions
        ids = [r.revision for r in self.revisions]
        if target not in ids:
            raise Refused(f"no migration {target}")
        return self.revisions[: ids.index(target) + 1]


def run_steps(
    connection: Connection,
    config: Config,
    script: ScriptDirectory,
    revisions: Iterable[Script],
    *,
    upgrade: bool,
    on_applied: Callable,
    on_autocommit: Callable[[], None] | None = None,
) -> None:
    """Run each revision's upgrade (or downgrade) in its own transaction, without env.py.

    `revisions` may be a generator: whatever it does before yielding a revision happens
    before that revision's transaction begins. `on_applied(ctx=, step=, heads=, run_args=)`
    runs inside the transaction, after Alembic moved alembic_version. `on_autocommit()` runs
    each time a migration enters an `autocommit_block()`, before that commits anything.
    """
    if connection.in_transaction():
        raise RuntimeError("run_steps needs a connection outside a transaction")

    def steps(heads, _context):
        remaining = iter(revisions)
        first = True
        while True:
            if connection.in_transaction() and not first:
                connection.commit()  # what an autocommit_block() left of the previous step
            first = False
            revision = next(remaining, None)
            if revision is None:
                return
            expected = (revision.down_revision,) if upgrade else (revision.revision,)
            if tuple(heads) != tuple(r for r in expected if r):
                raise Refused(
                    f"alembic_version holds {list(heads) or 'nothing'} but "
                    f"{revision.revision} needs {list(expected)}"
                )
            step = (MigrationStep.upgrade_from_script if upgrade
                    else MigrationStep.downgrade_from_script)(script.revision_map, revision)
            yield step
            heads = (revision.revision,) if upgrade else tuple(
                r for r in (revision.down_revision,) if r)

    with EnvironmentContext(config, script, fn=steps) as env:
        env.configure(connection=connection, transaction_per_migration=True,
                      on_version_apply=on_applied)
        if on_autocommit is not None:
            announce_autocommit(env.get_context(), on_autocommit)
        try:
            env.run_migrations()
        except BaseException:
            connection.rollback()
            raise
    # After an autocommit_block() Alembic leaves the rest of the step, and its
    # alembic_version update, in a transaction it no longer tracks.
    if connection.in_transaction():
        connection.commit()


def announce_autocommit(context: MigrationContext, announce: Callable[[], None]) -> None:
    """Make `op.get_context().autocommit_block()` call `announce()` first: from there on, part
    of the migration may commit before the rest fails."""
    block = context.autocommit_block

    @contextmanager
    def announced():
        announce()
        with block():
            yield

    context.autocommit_block = announced
