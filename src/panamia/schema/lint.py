"""`panamia db lint`: each migration's SQL, checked for what hurts a live database.

Each migration is rendered on its own by Alembic's offline mode (`prev:rev --sql`) and
parsed by PostgreSQL's own parser (pglast). Tables the migration creates before touching
them are exempt from the rules about existing tables, as in squawk; rule ids follow squawk's.
Alembic's offline output wraps each migration in BEGIN/COMMIT and ends that transaction
around an `autocommit_block()`, so the transaction state at each statement is known.
"""

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pglast
from pglast import ast, visitors
from pglast.enums import AlterTableType, ConstrType, ObjectType, TransactionStmtKind

from panamia.schema.files import VERSIONS_DIR, MigrationFile, display, migration_files

RULES = {
    "require-concurrent-index-creation": "CREATE INDEX without CONCURRENTLY on an existing "
                                         "table",
    "disallowed-unique-constraint": "ADD CONSTRAINT UNIQUE or PRIMARY KEY on an existing table "
                                    "(builds its index while blocking writes)",
    "ban-concurrent-index-creation-in-transaction": "CONCURRENTLY inside a transaction (outside "
                                                    "an autocommit_block())",
    "adding-required-field": "ADD COLUMN … NOT NULL without a default",
    "adding-field-with-default": "ADD COLUMN whose default rewrites the table (volatile "
                                 "function, serial, identity or stored generated column)",
    "adding-not-nullable-field": "SET NOT NULL on an existing column",
    "changing-column-type": "ALTER COLUMN … TYPE",
    "renaming-column": "RENAME COLUMN",
    "renaming-table": "RENAME a table",
    "ban-drop-column": "DROP COLUMN while the header says Reversible: Yes",
    "ban-drop-table": "DROP TABLE while the header says Reversible: Yes",
    "constraint-missing-not-valid": "FOREIGN KEY or CHECK added without NOT VALID on an "
                                    "existing table",
    "require-lock-timeout": "no SET [LOCAL] lock_timeout before the first statement",
    "render": "the migration cannot be rendered offline or parsed",
}

# Volatile functions: as a column default, PostgreSQL computes them for every existing row.
VOLATILE = frozenset({"clock_timestamp", "timeofday", "random", "gen_random_uuid",
                      "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4",
                      "uuidv7", "nextval"})
SERIAL = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})


@dataclass(frozen=True)
class Finding:
    path: Path
    rule: str
    message: str
    allowed: str | None = None

    def __str__(self) -> str:
        line = f"{display(self.path)}: {self.rule}: {self.message}"
        return f"{line} (allowed: {self.allowed})" if self.allowed else line


def lint(names: Sequence[str] = (), directory: Path = VERSIONS_DIR) -> list[Finding]:
    """Findings for the named migrations (file names, with or without .py), or all."""
    files = migration_files(directory)
    wanted = {name.removesuffix(".py") for name in names}
    unknown = wanted - {m.name for m in files}
    if unknown:
        raise LookupError(f"no migration called {', '.join(sorted(unknown))}")
    findings = []
    for migration in files:
        if wanted and migration.name not in wanted:
            continue
        allowed = migration.lint_allowances
        findings += [Finding(migration.path, rule, message, allowed.get(rule))
                     for rule, message in lint_migration(migration, directory)]
    return findings


def lint_migration(migration: MigrationFile, directory: Path) -> list[tuple[str, str]]:
    try:
        statements = pglast.parse_sql(render(migration, directory))
    except Exception as exc:  # Alembic, the migration's own code, or the parser
        return [("render", f"cannot lint it: {type(exc).__name__}: {exc}")]
    return list(check(statements, migration.reversible))


def render(migration: MigrationFile, directory: Path) -> str:
    from alembic import command

    from panamia.schema import migrate

    config = migrate.alembic_config("", directory)
    config.output_buffer = io.StringIO()
    command.upgrade(config, f"{migration.down_revision or 'base'}:{migration.revision}",
                    sql=True)
    return config.output_buffer.getvalue()


def check(statements: Sequence[ast.RawStmt], reversible: str | None) -> Iterator[tuple[str, str]]:
    in_transaction = timeout_set = False
    created: set[str] = set()
    for raw in statements:
        stmt = raw.stmt
        relation = getattr(stmt, "relation", None)
        table = relation.relname if isinstance(relation, ast.RangeVar) else None
        if table == "alembic_version":
            continue
        if isinstance(stmt, ast.TransactionStmt):
            in_transaction = stmt.kind in (TransactionStmtKind.TRANS_STMT_BEGIN,
                                           TransactionStmtKind.TRANS_STMT_START)
            continue
        if isinstance(stmt, ast.VariableSetStmt):
            timeout_set = timeout_set or stmt.name == "lock_timeout"
            continue
        if not timeout_set:
            timeout_set = True  # report once
            yield ("require-lock-timeout", "no lock_timeout is set before the first statement, "
                   "so a wait for a lock queues every query on the table behind it: start "
                   "upgrade() with op.execute(\"SET LOCAL lock_timeout = '5s'\")")
        if getattr(stmt, "concurrent", False) and in_transaction:
            yield ("ban-concurrent-index-creation-in-transaction", "CONCURRENTLY cannot run "
                   "inside a transaction: put it in `with op.get_context().autocommit_block():`")
        if isinstance(stmt, ast.CreateStmt):
            created.add(table)
        elif isinstance(stmt, ast.IndexStmt) and not stmt.concurrent and table not in created:
            yield ("require-concurrent-index-creation", f"CREATE INDEX {stmt.idxname} blocks "
                   f"writes to {table} while it builds: pass postgresql_concurrently=True "
                   "inside an autocommit_block()")
        elif isinstance(stmt, ast.RenameStmt) and table not in created:
            yield from check_rename(stmt, table)
        elif isinstance(stmt, ast.DropStmt) and stmt.removeType == ObjectType.OBJECT_TABLE:
            for name in stmt.objects:
                if name[-1].sval not in created and reversible == "Yes":
                    yield ("ban-drop-table", f"dropping table {name[-1].sval} loses its data, "
                           "yet the header says Reversible: Yes: say No or Partial")
        elif isinstance(stmt, ast.AlterTableStmt) and table not in created:
            for cmd in stmt.cmds:
                yield from check_alter(cmd, table, reversible)


def check_rename(stmt: ast.RenameStmt, table: str) -> Iterator[tuple[str, str]]:
    if stmt.renameType == ObjectType.OBJECT_COLUMN:
        yield ("renaming-column", f"renaming {table}.{stmt.subname} to {stmt.newname} breaks the "
               "app version still running during a deploy: add the new column, copy, and drop "
               "the old one in a later release")
    elif stmt.renameType == ObjectType.OBJECT_TABLE:
        yield ("renaming-table", f"renaming {table} to {stmt.newname} breaks the app version "
               "still running during a deploy")


def check_alter(cmd: ast.AlterTableCmd, table: str,
                reversible: str | None) -> Iterator[tuple[str, str]]:
    if cmd.subtype == AlterTableType.AT_AddColumn:
        yield from check_new_column(cmd.def_, table)
    elif cmd.subtype == AlterTableType.AT_AlterColumnType:
        yield ("changing-column-type", f"changing the type of {table}.{cmd.name} rewrites the "
               "table and its indexes under an ACCESS EXCLUSIVE lock: add a new column, "
               "backfill it, and switch")
    elif cmd.subtype == AlterTableType.AT_SetNotNull:
        yield ("adding-not-nullable-field", f"SET NOT NULL on {table}.{cmd.name} scans the table "
               f"under an ACCESS EXCLUSIVE lock: add CHECK ({cmd.name} IS NOT NULL) NOT VALID, "
               "VALIDATE it, then SET NOT NULL")
    elif cmd.subtype == AlterTableType.AT_DropColumn and reversible == "Yes":
        yield ("ban-drop-column", f"dropping {table}.{cmd.name} loses its data, yet the header "
               "says Reversible: Yes: say No or Partial")
    elif cmd.subtype == AlterTableType.AT_AddConstraint:
        constraint = cmd.def_
        if constraint.contype in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK) and \
                not constraint.skip_validation:
            yield ("constraint-missing-not-valid", f"ADD CONSTRAINT {constraint.conname} checks "
                   f"every row of {table} while holding its lock: add it NOT VALID "
                   "(postgresql_not_valid=True), then VALIDATE CONSTRAINT in a later migration")
        elif constraint.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY) and \
                not constraint.indexname:
            yield ("disallowed-unique-constraint", f"ADD CONSTRAINT {constraint.conname} builds "
                   f"an index while blocking writes to {table}: create a unique index "
                   "CONCURRENTLY, then ADD CONSTRAINT … USING INDEX")


def check_new_column(column: ast.ColumnDef, table: str) -> Iterator[tuple[str, str]]:
    name = f"{table}.{column.colname}"
    constraints = column.constraints or ()
    default = next((c.raw_expr for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT),
                   None)
    volatile = sorted(VOLATILE.intersection(function_names(default))) if default else []
    per_row = column.typeName.names[-1].sval in SERIAL or any(
        c.contype == ConstrType.CONSTR_IDENTITY
        or (c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind == "s")  # STORED
        for c in constraints
    )
    if volatile or per_row:
        what = f"{volatile[0]}()" if volatile else "a value per row"
        yield ("adding-field-with-default", f"ADD COLUMN {name} fills {what} into every existing "
               "row, rewriting the table under an ACCESS EXCLUSIVE lock: add it without that "
               "default, then backfill in batches")
    elif default is None and any(c.contype == ConstrType.CONSTR_NOTNULL for c in constraints):
        yield ("adding-required-field", f"ADD COLUMN {name} NOT NULL without a default fails on a "
               "table with rows and breaks inserts from the running app: add it nullable or "
               "with a default, backfill, then constrain")


def function_names(expression: ast.Node) -> set[str]:
    names: set[str] = set()

    class Calls(visitors.Visitor):
        def visit_FuncCall(self, ancestors, node):  # noqa: N802 - pglast's naming
            names.add(node.funcname[-1].sval)

    Calls()(expression)
    return names
