"""Migration chains written into tmp dirs, and statements run on a database of a test's own."""

import asyncio
import textwrap
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from panamia.db.postgres import create_engine


def query(url: str, sql: str, **params) -> list[tuple]:
    """Rows of one statement, on a connection of its own (committed)."""
    async def run():
        engine = create_engine(url, "tests", poolclass=NullPool)
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            rows = [tuple(r) for r in result] if result.returns_rows else []
        await engine.dispose()
        return rows

    return asyncio.run(run())


def write_migration(directory: Path, name: str, down: str | None, upgrade: str = "pass",
                    downgrade: str = "pass", reversible: str = "Yes") -> Path:
    """A migration with the house header; `upgrade`/`downgrade` are function bodies."""
    path = directory / f"{name}.py"
    path.write_text(
        f'"""Test migration {name}.\n\nMigration: {name}\nPurpose: exercise deploy\n'
        f'Ticket: N/A\nReversible: {reversible}\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {name!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n{textwrap.indent(upgrade, '    ')}\n\n\n"
        f"def downgrade():\n{textwrap.indent(downgrade, '    ')}\n")
    return path


def side_effect_chain(directory: Path, count: int = 3) -> list[str]:
    """Migrations that each insert their name into `side_effects` (the first creates it)."""
    directory.mkdir(exist_ok=True)
    names = [f"2030010100000{i}_step_{i}" for i in range(1, count + 1)]
    for i, name in enumerate(names):
        create = ("op.execute('CREATE TABLE side_effects (name text NOT NULL)')\n"
                  if i == 0 else "")
        write_migration(
            directory, name, names[i - 1] if i else None,
            upgrade=f"{create}op.execute(\"INSERT INTO side_effects VALUES ('{name}')\")",
            downgrade=("op.execute('DROP TABLE side_effects')" if i == 0 else
                       f"op.execute(\"DELETE FROM side_effects WHERE name = '{name}'\")"))
    return names
