"""`panamia db lint`: every rule fails on a fixture migration and passes on its safe form.

Offline rendering only: no database.
"""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from panamia.schema import lint
from panamia.schema.cli import db_app

FIRST = "20261201090000_create_items"
SECOND = "20261202090000_change_items"
TIMEOUT = "op.execute(\"SET LOCAL lock_timeout = '5s'\")"
BLOCK = "with op.get_context().autocommit_block():"


def write(directory: Path, name: str, down: str | None, body: list[str], *,
          reversible: str = "Yes", allow: str = "") -> None:
    lines = "\n".join(f"    {line}" for line in body)
    (directory / f"{name}.py").write_text(
        f'"""A test migration.\n\nMigration: {name}\nPurpose: tests\nTicket: N/A\n'
        f'Reversible: {reversible}\n{allow}"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {name!r}\ndown_revision = {down!r}\n\n\n"
        f"def upgrade():\n{lines}\n\n\ndef downgrade():\n    pass\n"
    )


@pytest.fixture
def versions(tmp_path) -> Path:
    """A first migration that creates `owners` and `items`, which then exist."""
    write(tmp_path, FIRST, None, [
        TIMEOUT,
        'op.create_table("owners", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True),',
        '                sa.Column("name", sa.Text()), sa.Column("owner_id", sa.Integer()))',
        'op.create_index("ix_items_name", "items", ["name"])',
    ])
    return tmp_path


def findings(directory: Path, body: list[str], **header) -> list[lint.Finding]:
    write(directory, SECOND, FIRST, body, **header)
    return lint.lint([SECOND], directory)


CONCURRENT_INDEX = 'op.create_index("ix_items_owner", "items", ["owner_id"], ' \
                   'postgresql_concurrently=True)'
NEW_TABLE = 'op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True), ' \
            'sa.Column("label", sa.Text()))'

CASES = {
    "require-concurrent-index-creation": (
        ['op.create_index("ix_items_owner", "items", ["owner_id"])'],
        [BLOCK, f"    {CONCURRENT_INDEX}"],
    ),
    "ban-concurrent-index-creation-in-transaction": (
        [CONCURRENT_INDEX],
        [BLOCK, f"    {CONCURRENT_INDEX}"],
    ),
    "disallowed-unique-constraint": (
        ['op.create_unique_constraint("uq_items_name", "items", ["name"])'],
        [BLOCK, '    op.create_index("uq_items_name", "items", ["name"], unique=True, '
                'postgresql_concurrently=True)',
         'op.execute("ALTER TABLE items ADD CONSTRAINT uq_items_name UNIQUE '
         'USING INDEX uq_items_name")'],
    ),
    "adding-required-field": (
        ['op.add_column("items", sa.Column("size", sa.Integer(), nullable=False))'],
        ['op.add_column("items", sa.Column("size", sa.Integer(), nullable=False, '
         'server_default="0"))'],
    ),
    "adding-field-with-default": (
        ['op.add_column("items", sa.Column("key", sa.Uuid(), '
         'server_default=sa.text("gen_random_uuid()")))'],
        ['op.add_column("items", sa.Column("seen", sa.DateTime(timezone=True), '
         'server_default=sa.text("now()")))'],
    ),
    "adding-not-nullable-field": (
        ['op.alter_column("items", "name", nullable=False)'],
        ['op.create_check_constraint("name_not_null", "items", "name IS NOT NULL", '
         'postgresql_not_valid=True)'],
    ),
    "changing-column-type": (
        ['op.alter_column("items", "name", type_=sa.String(40))'],
        [NEW_TABLE, 'op.alter_column("tags", "label", type_=sa.String(40))'],
    ),
    "renaming-column": (
        ['op.alter_column("items", "name", new_column_name="title")'],
        [NEW_TABLE, 'op.alter_column("tags", "label", new_column_name="title")'],
    ),
    "renaming-table": (
        ['op.rename_table("items", "things")'],
        [NEW_TABLE, 'op.rename_table("tags", "labels")'],
    ),
    "constraint-missing-not-valid": (
        ['op.create_foreign_key("fk_items_owner", "items", "owners", ["owner_id"], ["id"])'],
        ['op.create_foreign_key("fk_items_owner", "items", "owners", ["owner_id"], ["id"], '
         'postgresql_not_valid=True)'],
    ),
    "render": (
        ['raise RuntimeError("needs a live connection")'],
        ['op.execute("UPDATE items SET name = lower(name)")'],
    ),
}


@pytest.mark.parametrize("rule", CASES)
def test_the_unsafe_form_fails(versions, rule):
    unsafe, _ = CASES[rule]
    assert [f.rule for f in findings(versions, [TIMEOUT, *unsafe])] == [rule]


@pytest.mark.parametrize("rule", CASES)
def test_the_safe_form_passes(versions, rule):
    _, safe = CASES[rule]
    assert findings(versions, [TIMEOUT, *safe]) == []


@pytest.mark.parametrize("default", ["clock_timestamp()", "random()", "md5(random()::text)"])
def test_every_volatile_default_rewrites_the_table(versions, default):
    body = [TIMEOUT, f'op.execute("ALTER TABLE items ADD COLUMN extra text DEFAULT {default}")']
    assert [f.rule for f in findings(versions, body)] == ["adding-field-with-default"]


@pytest.mark.parametrize("column", ["serial", "int GENERATED ALWAYS AS IDENTITY",
                                    "int GENERATED ALWAYS AS (id * 2) STORED"])
def test_a_column_filled_per_row_rewrites_the_table(versions, column):
    body = [TIMEOUT, f'op.execute("ALTER TABLE items ADD COLUMN extra {column}")']
    assert [f.rule for f in findings(versions, body)] == ["adding-field-with-default"]


@pytest.mark.parametrize(("statement", "rule"), [
    ('op.drop_column("items", "name")', "ban-drop-column"),
    ('op.drop_table("items")', "ban-drop-table"),
])
def test_a_drop_needs_reversible_no(versions, statement, rule):
    assert [f.rule for f in findings(versions, [TIMEOUT, statement])] == [rule]
    assert findings(versions, [TIMEOUT, statement], reversible="No") == []


def test_a_migration_without_lock_timeout_fails(versions):
    body = ['op.add_column("items", sa.Column("note", sa.Text()))']
    assert [f.rule for f in findings(versions, body)] == ["require-lock-timeout"]
    assert findings(versions, ["op.execute(\"SET lock_timeout = '2s'\")", *body]) == []


def test_the_first_migration_lints_from_base(versions):
    assert lint.lint([FIRST], versions) == []


def test_the_committed_migrations_lint_clean():
    """Every finding is fixed or acknowledged with its reason, as `panamia db lint` asks."""
    assert [finding for finding in lint.lint() if not finding.allowed] == []


def test_an_acknowledged_finding_is_shown_with_its_reason(versions):
    [finding] = findings(versions, [TIMEOUT, 'op.rename_table("items", "things")'],
                         allow="Lint-Allow: renaming-table because nothing reads items yet\n")
    assert finding.allowed == "nothing reads items yet"
    assert str(finding).endswith("renaming-table: " + finding.message
                                 + " (allowed: nothing reads items yet)")


def test_an_unknown_migration_name_is_refused(versions):
    with pytest.raises(LookupError, match="20990101000000_nothing"):
        lint.lint(["20990101000000_nothing"], versions)


def test_every_rule_has_a_case():
    tested = set(CASES) | {"ban-drop-column", "ban-drop-table", "require-lock-timeout"}
    assert tested == set(lint.RULES)


def test_the_command_lints_the_committed_migrations():
    result = CliRunner().invoke(db_app, ["lint"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
