"""Migration files as a governed set: names, headers, one chain, and the sum file.

`migrations.sum` (after Atlas's atlas.sum) holds one line per migration, `<file> <sha256>`,
under a first line `h1:<sha256 of those lines>`. `panamia db new` appends a line and so
changes the first one: two branches that each add a migration then conflict in git, and a
fresh clone can tell a committed migration that was edited, deleted or renamed.
"""

import ast
import hashlib
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from panamia.schema.files import (
    DATA_MIGRATION_VALUES,
    LINT_ALLOW,
    NAME,
    REQUIRED_HEADERS,
    REVERSIBLE_VALUES,
    TICKET,
    VERSIONS_DIR,
    MigrationFile,
    display,
    migration_files,
)

SUM_FILE = "migrations.sum"
SUM_LINE = re.compile(r"^(?P<file>\S+\.py) (?P<sha>[0-9a-f]{64})$")
SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


class GovernanceError(Exception):
    """The command cannot run as asked (a bad name, an unknown git ref): exit 2, not 1."""


@dataclass(frozen=True)
class Problem:
    path: Path
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{display(self.path)}: {self.rule}: {self.message}"


# --- the sum file -----------------------------------------------------------------------


def sum_line(migration: MigrationFile) -> str:
    return f"{migration.path.name} {migration.checksum}"


def cumulative_hash(lines: list[str]) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def write_sum(directory: Path, lines: list[str]) -> None:
    text = f"h1:{cumulative_hash(lines)}\n" + "".join(f"{line}\n" for line in lines)
    (directory / SUM_FILE).write_text(text, newline="\n")


def sum_lines(text: str) -> list[str]:
    """The migration lines of a sum file's text, as written (the `h1:` line left out)."""
    return [line for line in text.splitlines()[1:] if line.strip()]


def read_sum_lines(directory: Path) -> list[str]:
    path = directory / SUM_FILE
    return sum_lines(path.read_text()) if path.exists() else []


def record(migration: MigrationFile, directory: Path = VERSIONS_DIR) -> None:
    """Append the migration's line; every line already there stays as it was."""
    write_sum(directory, [*read_sum_lines(directory), sum_line(migration)])


def rehash(directory: Path = VERSIONS_DIR) -> list[str]:
    """Rewrite the sum file: the lines committed at HEAD verbatim, then every other migration
    as it is now. For a migration edited before its first commit; returns the names rehashed."""
    committed = sum_lines(git_show(directory, "HEAD") or "")
    recorded = {match["file"] for match in map(SUM_LINE.match, committed) if match}
    fresh = [m for m in migration_files(directory) if m.path.name not in recorded]
    write_sum(directory, committed + [sum_line(m) for m in fresh])
    return [m.name for m in fresh]


def check_sum(directory: Path, files: list[MigrationFile]) -> list[Problem]:
    path = directory / SUM_FILE
    if not path.exists():
        return [Problem(path, "sum-file", "missing; run `panamia db hash` to record the "
                        "migrations")] if files else []
    text = path.read_text()
    lines = sum_lines(text)
    problems = []
    if text.splitlines()[:1] != [f"h1:{cumulative_hash(lines)}"]:
        problems.append(Problem(path, "sum-file", "the h1 line does not match the lines below "
                                "it (edited by hand, or two branches' migrations merged): keep "
                                "one chain, then run `panamia db hash`"))
    on_disk = {m.path.name: m for m in files}
    recorded: set[str] = set()
    for line in lines:
        match = SUM_LINE.match(line)
        if not match or match["file"] in recorded:
            problems.append(Problem(path, "sum-file", f"malformed or repeated line {line!r}"))
            continue
        recorded.add(match["file"])
        migration = on_disk.get(match["file"])
        if migration is None:
            problems.append(Problem(directory / match["file"], "removed", "recorded in "
                                    f"{SUM_FILE} but gone (deleted or renamed): restore it, "
                                    "committed migrations stay; if it was never committed, "
                                    "run `panamia db hash`"))
        elif migration.checksum != match["sha"]:
            problems.append(Problem(migration.path, "modified", "changed since it was recorded "
                                    f"in {SUM_FILE}: committed migrations are immutable, so "
                                    "restore it and write a new one (before its first commit, "
                                    "run `panamia db hash`)"))
    for name in sorted(on_disk.keys() - recorded):
        problems.append(Problem(on_disk[name].path, "unrecorded", f"not in {SUM_FILE}: create "
                                "migrations with `panamia db new`, or run `panamia db hash`"))
    return problems


# --- one file ---------------------------------------------------------------------------


def check_file(migration: MigrationFile) -> list[Problem]:
    path, name = migration.path, migration.name
    try:
        module = ast.parse(migration.content)
    except SyntaxError as exc:
        return [Problem(path, "syntax", f"not valid Python: {exc.msg} (line {exc.lineno})")]
    problems = []
    if not NAME.fullmatch(name) or not valid_timestamp(name[:14]):
        problems.append(Problem(path, "naming", "the file name must be "
                                "YYYYMMDDHHMMSS_snake_case.py (UTC timestamp, lowercase)"))
    if migration.revision != name:
        problems.append(Problem(path, "revision-id", f"revision is {migration.revision!r}; it "
                                f"must be the file name without .py, {name!r}"))
    problems += [Problem(path, "header", message) for message in header_problems(migration)]
    if migration.reversible == "Yes" and not has_downgrade(module):
        problems.append(Problem(path, "downgrade", "the header says Reversible: Yes but "
                                "downgrade() does nothing: write it, or say Reversible: No"))
    return problems


def valid_timestamp(digits: str) -> bool:
    try:
        datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def header_problems(migration: MigrationFile) -> list[str]:
    from panamia.schema.lint import RULES

    headers = migration.headers
    problems = [f"missing `{key}:` in the docstring" for key in REQUIRED_HEADERS
                if key not in headers]
    if headers.get("Migration", migration.name) != migration.name:
        problems.append(f"Migration: is {headers['Migration']!r}, not the file's name")
    purpose = headers.get("Purpose")
    if purpose is not None and (not purpose or purpose.startswith("TODO")):
        problems.append("Purpose: must say why this change exists")
    if "Ticket" in headers and not TICKET.fullmatch(headers["Ticket"]):
        problems.append(f"Ticket: is {headers['Ticket']!r}; write PANA-<number> or N/A")
    if "Reversible" in headers and headers["Reversible"] not in REVERSIBLE_VALUES:
        problems.append(f"Reversible: is {headers['Reversible']!r}; write Yes, No or Partial")
    if headers.get("Data Migration", "None") not in DATA_MIGRATION_VALUES:
        problems.append(f"Data Migration: is {headers['Data Migration']!r}; write None, "
                        "Inline or Separate script")
    for line in migration.docstring.splitlines():
        if not line.startswith("Lint-Allow:"):
            continue
        match = LINT_ALLOW.match(line)
        if not match:
            problems.append(f"write `Lint-Allow: <rule-id> because <reason>`, not {line!r}")
        elif match["rule"] not in RULES:
            problems.append(f"Lint-Allow: no lint rule is called {match['rule']!r}")
    return problems


def has_downgrade(module: ast.Module) -> bool:
    """Whether downgrade() does something: more than a docstring, `pass` or `...`."""
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            return any(not isinstance(statement, ast.Pass)
                       and not (isinstance(statement, ast.Expr)
                                and isinstance(statement.value, ast.Constant))
                       for statement in node.body)
    return False


# --- the chain --------------------------------------------------------------------------


def check_chain(files: list[MigrationFile]) -> list[Problem]:
    """Alembic allows branches and merges; we keep one line of history with one head."""
    by_revision: dict[str, MigrationFile] = {}
    children: dict[str | None, list[MigrationFile]] = {}
    problems = []
    for migration in files:
        if migration.revision is None:
            continue
        if migration.revision in by_revision:
            problems.append(Problem(migration.path, "duplicate-revision", f"revision "
                                    f"{migration.revision!r} is also "
                                    f"{by_revision[migration.revision].path.name}"))
            continue
        by_revision[migration.revision] = migration
    for migration in by_revision.values():
        parent = migration.down_revision
        if isinstance(parent, tuple):
            problems.append(Problem(migration.path, "chain", "merges several down_revisions; "
                                    "keep one chain: point down_revision at the latest one"))
            continue
        if parent is not None and parent not in by_revision:
            problems.append(Problem(migration.path, "chain", f"down_revision {parent!r} is no "
                                    "migration here"))
            continue
        siblings = children.setdefault(parent, [])
        if siblings:
            what = "the first migration too" if parent is None else f"a child of {parent!r} too"
            problems.append(Problem(migration.path, "chain", f"is {what}, beside "
                                    f"{siblings[0].name}: that makes two heads; point "
                                    "down_revision at the latest migration"))
        siblings.append(migration)
        if parent is not None and migration.name[:14] <= parent[:14]:
            problems.append(Problem(migration.path, "chain", f"its timestamp is not later than "
                                    f"its down_revision {parent!r}: recreate it with "
                                    "`panamia db new`"))
    if by_revision and None not in children:
        problems.append(Problem(files[0].path.parent, "chain", "no migration has "
                                "down_revision = None: the chain is a cycle"))
    return problems


# --- git: what a commit or a branch changes ---------------------------------------------


def git(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True)


def git_show(directory: Path, ref: str) -> str | None:
    """The sum file's text at `ref`, or None if it had none (or this is no git checkout)."""
    shown = git(directory, "show", f"{ref}:./{SUM_FILE}")
    return shown.stdout if shown.returncode == 0 else None


def check_committed(directory: Path, base: str | None) -> list[Problem]:
    """Committed migrations that the index (base None: against HEAD) or the work tree (against
    `base`) modifies, deletes or renames."""
    ref = base or "HEAD"
    if git(directory, "rev-parse", "--show-toplevel").returncode != 0:
        raise GovernanceError(f"{display(directory)} is not in a git checkout")
    if git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        if base is None:
            return []  # nothing committed yet
        raise GovernanceError(f"unknown git revision {base!r}")
    diff = git(directory, "diff", *([ref] if base else ["--cached"]), "--name-status", "-M",
               "--relative", "--", ".")
    if diff.returncode != 0:
        raise GovernanceError(f"git diff failed: {diff.stderr.strip()}")
    problems = []
    for line in diff.stdout.splitlines():
        status, old, *new = line.split("\t")
        if status.startswith("A") or not old.endswith(".py"):
            continue
        verb = {"M": "modified", "D": "deleted", "R": f"renamed to {''.join(new)}"}.get(
            status[0], "changed")
        problems.append(Problem(directory / old, "committed", f"{verb}, but it is committed at "
                                f"{ref}: committed migrations are immutable; write a new one"))
    return problems


# --- the commands -----------------------------------------------------------------------


def validate(directory: Path = VERSIONS_DIR, *, staged: bool = False,
             base: str | None = None) -> list[Problem]:
    """Every problem with the migrations in `directory`; with `staged` or `base`, also
    committed migrations that the staged changes, or the changes since `base`, touch."""
    files = migration_files(directory)
    problems = [problem for migration in files for problem in check_file(migration)]
    problems += check_chain(files)
    problems += check_sum(directory, files)
    if staged or base:
        problems += check_committed(directory, base)
    return problems


def new_migration(name: str, *, ticket: str | None = None, purpose: str | None = None,
                  postgres_url: str | None = None, directory: Path = VERSIONS_DIR) -> Path:
    """Write `<UTC timestamp>_<name>.py` after the current head and record it in the sum
    file. With `postgres_url`, Alembic autogenerates the operations from the models'
    difference with that database."""
    from alembic import command
    from alembic.util import CommandError

    from panamia.schema import migrate

    if not SLUG.fullmatch(name):
        raise GovernanceError(f"{name!r} is not lowercase snake_case")
    if ticket is not None and not TICKET.fullmatch(ticket):
        raise GovernanceError(f"ticket {ticket!r} is not PANA-<number> or N/A")
    config = migrate.alembic_config(postgres_url or "", directory)
    config.set_main_option("file_template", "%%(rev)s")  # the file's name is the revision id
    config.attributes.update(purpose=purpose, ticket=ticket)
    try:
        script = command.revision(
            config,
            message=name.replace("_", " ").capitalize() + ".",
            autogenerate=postgres_url is not None,
            rev_id=f"{datetime.now(UTC):%Y%m%d%H%M%S}_{name}",
        )
    except CommandError as exc:  # several heads, or a database behind the migrations
        raise GovernanceError(str(exc)) from None
    migration = MigrationFile.read(Path(script.path))
    record(migration, directory)
    return migration.path
