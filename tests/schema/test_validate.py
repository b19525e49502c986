"""`panamia db validate`: each rule, the sum file, and git (a fresh clone, --staged, --base)."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panamia.schema import governance
from panamia.schema.cli import db_app
from panamia.schema.files import MigrationFile, migration_files

FIRST = "20261201090000_create_items"
SECOND = "20261202090000_add_item_index"
REPO_ROOT = Path(__file__).parents[2]


def write(directory: Path, name: str, down: str | None = None, *, revision: str | None = None,
          headers: dict[str, str | None] | None = None, downgrade: str = "op.drop_table('t')",
          file_name: str | None = None) -> Path:
    fields = {"Migration": name, "Purpose": "Tests need a table.", "Ticket": "N/A",
              "Reversible": "Yes", **(headers or {})}
    header = "\n".join(f"{key}: {value}" for key, value in fields.items() if value is not None)
    path = directory / f"{file_name or name}.py"
    path.write_text(
        f'"""A test migration.\n\n{header}\n"""\n\nfrom alembic import op\n\n'
        f"revision = {revision or name!r}\ndown_revision = {down!r}\n\n\n"
        f"def upgrade():\n    op.execute('SELECT 1')\n\n\ndef downgrade():\n    {downgrade}\n"
    )
    return path


def record_all(directory: Path) -> None:
    governance.write_sum(directory, [governance.sum_line(m) for m in migration_files(directory)])


def found(directory: Path, **options) -> set[tuple[str, str]]:
    return {(p.path.name, p.rule) for p in governance.validate(directory, **options)}


@pytest.fixture
def versions(tmp_path) -> Path:
    """Two migrations in one chain, recorded in the sum file: valid."""
    directory = tmp_path / "versions"
    directory.mkdir()
    write(directory, FIRST)
    write(directory, SECOND, FIRST)
    record_all(directory)
    return directory


def test_a_clean_directory_is_valid(versions):
    assert governance.validate(versions) == []


def test_the_committed_migrations_are_valid():
    assert governance.validate() == []


def test_problems_print_as_path_rule_message(versions):
    (versions / f"{SECOND}.py").write_text((versions / f"{SECOND}.py").read_text() + "\n")
    [problem] = governance.validate(versions)
    assert str(problem).startswith(f"{versions / SECOND}.py: modified: ")


class TestNaming:
    @pytest.mark.parametrize("name", ["2026120309000_short_stamp", "20261203090000_CamelCase",
                                      "20261303090000_no_month_13", "20261203090000-dash",
                                      "20261203090000_trailing_"])
    def test_a_bad_name_fails(self, versions, name):
        write(versions, name, SECOND)
        assert (f"{name}.py", "naming") in found(versions)

    def test_revision_must_be_the_file_stem(self, versions):
        name = "20261203090000_add_column"
        write(versions, name, SECOND, revision="abc123")
        record_all(versions)
        assert found(versions) == {(f"{name}.py", "revision-id")}


class TestHeader:
    @pytest.mark.parametrize("headers", [
        {"Purpose": None},
        {"Ticket": None},
        {"Reversible": None},
        {"Migration": None},
        {"Migration": "someone_else"},
        {"Purpose": "TODO say why this change exists"},
        {"Ticket": "JIRA-7"},
        {"Reversible": "Maybe"},
        {"Data Migration": "Lots"},
        {"Lint-Allow": "no-such-rule because reasons"},
        {"Lint-Allow": "renaming-column"},
    ])
    def test_a_bad_header_fails(self, tmp_path, headers):
        write(tmp_path, FIRST, headers=headers)
        record_all(tmp_path)
        assert found(tmp_path) == {(f"{FIRST}.py", "header")}

    @pytest.mark.parametrize("headers", [
        {"Ticket": "PANA-42"},
        {"Reversible": "Partial", "Rollback": "DROP TABLE t;", "Dependencies": "users"},
        {"Data Migration": "Separate script"},
        {"Lint-Allow": "renaming-column because nothing reads it yet"},
    ])
    def test_a_good_header_passes(self, tmp_path, headers):
        write(tmp_path, FIRST, headers=headers)
        record_all(tmp_path)
        assert governance.validate(tmp_path) == []

    def test_a_file_that_is_not_python_fails(self, tmp_path):
        (tmp_path / f"{FIRST}.py").write_text("def upgrade(:\n")
        record_all(tmp_path)
        assert found(tmp_path) == {(f"{FIRST}.py", "syntax")}


class TestDowngrade:
    @pytest.mark.parametrize("body", ["pass", "...", '"""Nothing to undo."""'])
    def test_reversible_yes_needs_a_real_downgrade(self, tmp_path, body):
        write(tmp_path, FIRST, downgrade=body)
        record_all(tmp_path)
        assert found(tmp_path) == {(f"{FIRST}.py", "downgrade")}

    def test_reversible_no_may_leave_it_empty(self, tmp_path):
        write(tmp_path, FIRST, headers={"Reversible": "No"}, downgrade="pass")
        record_all(tmp_path)
        assert governance.validate(tmp_path) == []


class TestChain:
    def test_two_migrations_on_one_parent_are_two_heads(self, versions):
        name = "20261203090000_other_branch"
        write(versions, name, FIRST)
        record_all(versions)
        assert found(versions) == {(f"{name}.py", "chain")}

    def test_a_second_base_is_two_heads(self, versions):
        name = "20261203090000_another_start"
        write(versions, name)
        record_all(versions)
        assert found(versions) == {(f"{name}.py", "chain")}

    def test_down_revision_must_exist(self, versions):
        name = "20261203090000_orphan"
        write(versions, name, "20261101000000_gone")
        record_all(versions)
        assert found(versions) == {(f"{name}.py", "chain")}

    def test_a_revision_must_be_unique(self, versions):
        write(versions, "20261203090000_copy", SECOND, revision=SECOND)
        record_all(versions)
        assert ("20261203090000_copy.py", "duplicate-revision") in found(versions)

    def test_a_child_is_newer_than_its_parent(self, versions):
        name = "20261130090000_older_child"
        write(versions, name, SECOND)
        record_all(versions)
        assert found(versions) == {(f"{name}.py", "chain")}


class TestSumFile:
    def test_an_edited_migration_fails(self, versions):
        path = versions / f"{FIRST}.py"
        path.write_text(path.read_text().replace("SELECT 1", "SELECT 2"))
        assert found(versions) == {(f"{FIRST}.py", "modified")}

    def test_crlf_line_endings_are_not_an_edit(self, versions):
        path = versions / f"{FIRST}.py"
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
        assert governance.validate(versions) == []

    def test_a_deleted_migration_fails(self, versions):
        (versions / f"{SECOND}.py").unlink()
        assert found(versions) == {(f"{SECOND}.py", "removed")}

    def test_a_migration_moved_to_a_new_timestamp_fails(self, versions):
        (versions / f"{SECOND}.py").unlink()
        write(versions, "20261203090000_add_item_index", FIRST)
        assert found(versions) == {(f"{SECOND}.py", "removed"),
                                   ("20261203090000_add_item_index.py", "unrecorded")}

    def test_an_unrecorded_migration_fails(self, versions):
        name = "20261203090000_by_hand"
        write(versions, name, SECOND)
        assert found(versions) == {(f"{name}.py", "unrecorded")}

    def test_a_line_edited_by_hand_breaks_the_cumulative_hash(self, versions):
        path = versions / governance.SUM_FILE
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n")
        assert found(versions) == {(governance.SUM_FILE, "sum-file")}

    def test_a_missing_sum_file_fails(self, versions):
        (versions / governance.SUM_FILE).unlink()
        assert found(versions) == {(governance.SUM_FILE, "sum-file")}

    def test_record_appends_and_keeps_every_line(self, versions):
        before = (versions / governance.SUM_FILE).read_text().splitlines()
        migration = MigrationFile.read(write(versions, "20261203090000_third", SECOND))
        governance.record(migration, versions)
        after = (versions / governance.SUM_FILE).read_text().splitlines()
        assert after[1:] == [*before[1:], f"{migration.path.name} {migration.checksum}"]
        assert after[0] != before[0]
        assert governance.validate(versions) == []


def git(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                          check=False)


def commit(directory: Path, message: str) -> None:
    git(directory, "add", "-A")
    result = git(directory, "commit", "--no-verify", "-q", "-m", message)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def repo(tmp_path, versions) -> Path:
    """A git repository whose first commit holds the two valid migrations."""
    root = versions.parent
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.org")
    git(root, "config", "user.name", "Dev")
    commit(root, "first migrations")
    return root


class TestGit:
    def test_an_edit_committed_with_no_verify_fails_on_a_fresh_clone(self, repo, tmp_path):
        path = repo / "versions" / f"{FIRST}.py"
        path.write_text(path.read_text().replace("SELECT 1", "SELECT 2"))
        commit(repo, "edit a committed migration")
        clone = tmp_path / "clone"
        assert git(tmp_path, "clone", "-q", str(repo), str(clone)).returncode == 0
        assert found(clone / "versions") == {(f"{FIRST}.py", "modified")}

    def test_base_catches_an_edit_whose_sum_line_was_rewritten(self, repo):
        first_commit = git(repo, "rev-parse", "HEAD").stdout.strip()
        versions = repo / "versions"
        path = versions / f"{FIRST}.py"
        path.write_text(path.read_text().replace("SELECT 1", "SELECT 2"))
        record_all(versions)
        commit(repo, "edit a migration and its sum line")
        assert governance.validate(versions) == []  # hence CI runs with --base
        assert found(versions, base=first_commit) == {(f"{FIRST}.py", "committed")}

    def test_base_catches_a_delete_and_re_add_under_a_new_timestamp(self, repo):
        versions = repo / "versions"
        (versions / f"{SECOND}.py").unlink()
        write(versions, "20261203090000_add_item_index", FIRST)
        record_all(versions)
        assert found(versions, base="HEAD") == {(f"{SECOND}.py", "committed")}

    def test_staged_refuses_a_staged_modification(self, repo):
        path = repo / "versions" / f"{FIRST}.py"
        path.write_text(path.read_text() + "# a fix\n")
        git(repo, "add", "-A")
        assert (f"{FIRST}.py", "committed") in found(repo / "versions", staged=True)

    def test_staged_refuses_a_staged_deletion(self, repo):
        git(repo, "rm", "-q", f"versions/{SECOND}.py")
        assert (f"{SECOND}.py", "committed") in found(repo / "versions", staged=True)

    def test_staged_accepts_a_new_recorded_migration(self, repo):
        versions = repo / "versions"
        governance.record(MigrationFile.read(write(versions, "20261203090000_third", SECOND)),
                          versions)
        git(repo, "add", "-A")
        assert governance.validate(versions, staged=True) == []

    def test_staged_before_the_first_commit_checks_the_files(self, versions):
        git(versions.parent, "init", "-q")
        assert governance.validate(versions, staged=True) == []

    def test_an_unknown_base_is_a_usage_error(self, repo):
        with pytest.raises(governance.GovernanceError, match="unknown git revision"):
            governance.validate(repo / "versions", base="no-such-branch")

    def test_staged_outside_git_is_a_usage_error(self, versions):
        with pytest.raises(governance.GovernanceError, match="not in a git checkout"):
            governance.validate(versions, staged=True)

    def test_two_branches_adding_migrations_conflict_on_the_sum_file(self, repo):
        versions = repo / "versions"
        for branch, name in [("a", "20261203090000_from_a"), ("b", "20261203100000_from_b")]:
            git(repo, "checkout", "-q", "-b", branch, "main")
            governance.record(MigrationFile.read(write(versions, name, SECOND)), versions)
            commit(repo, f"add {name}")
        git(repo, "checkout", "-q", "a")
        merge = git(repo, "merge", "--no-edit", "b")
        assert merge.returncode != 0
        assert "CONFLICT (content): Merge conflict in versions/migrations.sum" in merge.stdout

    def test_hash_keeps_committed_lines_and_records_new_edits(self, repo):
        versions = repo / "versions"
        committed = (versions / governance.SUM_FILE).read_text().splitlines()[1:]
        new = write(versions, "20261203090000_third", SECOND)
        governance.record(MigrationFile.read(new), versions)
        new.write_text(new.read_text().replace("SELECT 1", "SELECT 3"))  # reviewed, edited
        edited = versions / f"{FIRST}.py"
        edited.write_text(edited.read_text() + "# not allowed\n")
        assert governance.rehash(versions) == ["20261203090000_third"]
        lines = (versions / governance.SUM_FILE).read_text().splitlines()[1:]
        assert lines[:2] == committed
        assert found(versions) == {(f"{FIRST}.py", "modified")}


class TestCommand:
    def test_validate_prints_ok(self):
        result = CliRunner().invoke(db_app, ["validate"])
        assert result.exit_code == 0, result.output
        assert "OK" in result.output

    def test_staged_and_base_together_is_a_usage_error(self):
        result = CliRunner().invoke(db_app, ["validate", "--staged", "--base", "HEAD"])
        assert result.exit_code == 2

    def test_the_pre_commit_config_is_valid(self):
        config = REPO_ROOT / ".pre-commit-config.yaml"
        result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config",
                                 str(config)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "db validate --staged" in config.read_text()
