"""`panamia db new`: the file, its header, the chain and the sum file."""

import asyncio
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from panamia.schema import governance, lint
from panamia.schema.cli import db_app
from panamia.schema.files import VERSIONS_DIR, MigrationFile, migration_files
from panamia.schema.metadata import target_metadata


@pytest.fixture
def versions(tmp_path) -> Path:
    """A copy of the committed migrations and their sum file."""
    directory = tmp_path / "versions"
    directory.mkdir()
    for migration in migration_files(VERSIONS_DIR):
        shutil.copy(migration.path, directory)
    governance.rehash(directory)
    return directory


def head(directory: Path) -> str:
    return migration_files(directory)[-1].name


def test_new_writes_the_header_and_records_the_file(versions):
    parent = head(versions)
    path = governance.new_migration("add_listings", ticket="PANA-42",
                                    purpose="Sitters list their homes.", directory=versions)
    migration = MigrationFile.read(path)
    assert re.fullmatch(r"\d{14}_add_listings", migration.name)
    assert migration.revision == migration.name
    assert migration.down_revision == parent
    assert migration.headers == {"Migration": migration.name,
                                 "Purpose": "Sitters list their homes.", "Ticket": "PANA-42",
                                 "Reversible": "Yes", "Data Migration": "None"}
    last = (versions / governance.SUM_FILE).read_text().splitlines()[-1]
    assert last == f"{path.name} {migration.checksum}"
    # valid but for the downgrade still to write; its SQL sets lock_timeout
    assert {(p.path.name, p.rule) for p in governance.validate(versions)} == {
        (path.name, "downgrade")}
    assert lint.lint([migration.name], versions) == []


def test_the_author_completes_the_file_then_rehashes(versions):
    path = governance.new_migration("add_notes", directory=versions)
    assert {p.rule for p in governance.validate(versions)} == {"header", "downgrade"}
    text = path.read_text().replace("TODO say why this change exists", "Notes on users.")
    path.write_text(text.replace(
        "def upgrade() -> None:\n    op.execute(\"SET LOCAL lock_timeout = '5s'\")\n",
        "def upgrade() -> None:\n    op.execute(\"SET LOCAL lock_timeout = '5s'\")\n"
        "    op.add_column('users', sa.Column('note', sa.Text()))\n",
    ).replace("    pass\n", "    op.drop_column('users', 'note')\n"))
    assert {p.rule for p in governance.validate(versions)} == {"modified"}
    assert path.stem in governance.rehash(versions)  # no git here: nothing committed
    assert governance.validate(versions) == []
    assert lint.lint([path.stem], versions) == []


@pytest.mark.parametrize(("name", "ticket"), [("Add-Listings", None), ("add listings", None),
                                              ("add_listings", "42"), ("add_listings\n", None),
                                              ("add_listings", "PANA-1\n")])
def test_bad_names_and_tickets_write_nothing(versions, name, ticket):
    before = sorted(p.name for p in versions.iterdir())
    with pytest.raises(governance.GovernanceError):
        governance.new_migration(name, ticket=ticket, directory=versions)
    assert sorted(p.name for p in versions.iterdir()) == before


def test_the_command_refuses_a_bad_name():
    result = CliRunner().invoke(db_app, ["new", "Bad-Name"])
    assert result.exit_code == 2
    assert "snake_case" in result.output


async def test_autogenerate_writes_the_models_difference(versions, migrated_database_url):
    table = sa.Table("probe_items", target_metadata,
                     sa.Column("id", sa.Integer(), primary_key=True))
    try:
        path = await asyncio.to_thread(governance.new_migration, "add_probe_items",
                                       purpose="Probe autogenerate.",
                                       postgres_url=migrated_database_url, directory=versions)
    finally:
        target_metadata.remove(table)
    text = path.read_text()
    assert "op.create_table('probe_items'" in text
    assert "op.drop_table('probe_items')" in text
    assert governance.validate(versions) == []
    assert lint.lint([path.stem], versions) == []
