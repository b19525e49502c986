"""The ledger's states, `status`, `history`, `rollback`, and databases older than the ledger."""

import asyncio
import json
from datetime import UTC, datetime

from alembic import command

from panamia.schema import deploy, ledger, migrate
from panamia.schema.ledger import Row, classify
from tests.schema.factories import query, side_effect_chain, write_migration
from tests.schema.test_deploy import HeldConnection, ledger_rows, run_deploy

NOW = datetime.now(UTC)


class TestClassify:
    def test_each_state(self):
        files = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]
        rows = [
            Row("a", "1", finished_at=NOW),
            Row("b", "changed", finished_at=NOW),
            Row("c", "3"),  # started, never finished
            Row("d", "4", finished_at=NOW, rolled_back_at=NOW),
            Row("gone", "9", finished_at=NOW),
            Row("gone too", "9", finished_at=NOW, rolled_back_at=NOW),
        ]
        assert [(e.name, e.state) for e in classify(files, rows)] == [
            ("a", "applied"), ("b", "modified"), ("c", "failed"), ("d", "pending"),
            ("e", "pending"), ("gone", "missing")]

    def test_the_latest_row_decides(self):
        rows = [Row("a", "1", rolled_back_at=NOW), Row("a", "1", finished_at=NOW)]
        assert classify([("a", "1")], rows)[0].state == "applied"

    def test_an_unfinished_row_is_applying_while_a_deploy_holds_the_lock(self):
        assert classify([("a", "1")], [Row("a", "1")], deploy_running=True)[0].state == (
            "applying")


class TestStatus:
    def test_json_lists_both_databases_and_exit_1_on_a_missing_file(self, database_url,
                                                                   versions_dir, cli):
        names = side_effect_chain(versions_dir)
        run_deploy(database_url, versions_dir, target=names[1])
        clean = cli("status", "--json", "--versions-dir", str(versions_dir))
        assert clean.exit_code == 0, clean.output
        report = json.loads(clean.output)
        assert [(e["name"], e["state"]) for e in report["postgres"]] == [
            (names[0], "applied"), (names[1], "applied"), (names[2], "pending")]
        assert report["mongodb"] is None  # MONGODB_URL unset

        (versions_dir / f"{names[2]}.py").unlink()
        (versions_dir / f"{names[1]}.py").unlink()
        missing = cli("status", "--versions-dir", str(versions_dir))
        assert missing.exit_code == 1
        assert "missing" in missing.output and names[1] in missing.output

    def test_history_shows_every_attempt(self, database_url, versions_dir, cli):
        names = side_effect_chain(versions_dir, 2)
        run_deploy(database_url, versions_dir)
        assert cli("rollback", "--versions-dir", str(versions_dir)).exit_code == 0
        run_deploy(database_url, versions_dir)
        result = cli("history")
        assert result.exit_code == 0, result.output
        assert result.output.count(names[1]) == 2
        assert "rolled back" in result.output and "applied" in result.output


class TestBaseline:
    def test_a_database_migrated_before_the_ledger_gets_its_rows(self, database_url,
                                                                versions_dir):
        names = side_effect_chain(versions_dir)
        command.upgrade(migrate.alembic_config(database_url, versions_dir), names[1])
        state = asyncio.run(deploy.status(database_url, versions_dir))
        assert [e.state for e in state.entries] == ["applied", "applied", "pending"]

        assert run_deploy(database_url, versions_dir).applied == [names[2]]
        rows = ledger_rows(database_url)
        assert [r[0] for r in rows] == names
        assert rows[0][4] == "recorded from alembic_version"


class TestRollback:
    def test_steps_run_downgrades_and_record_them(self, database_url, versions_dir, cli):
        names = side_effect_chain(versions_dir)
        run_deploy(database_url, versions_dir)
        result = cli("rollback", "--steps", "2", "--versions-dir", str(versions_dir))
        assert result.exit_code == 0, result.output
        assert query(database_url, "SELECT name FROM side_effects") == [(names[0],)]
        assert query(database_url, "SELECT version_num FROM alembic_version") == [(names[0],)]
        assert [r[:3] for r in ledger_rows(database_url)] == [
            (names[0], True, False), (names[1], True, True), (names[2], True, True)]
        assert run_deploy(database_url, versions_dir).applied == names[1:]

    def test_to_base_undoes_everything(self, database_url, versions_dir, cli):
        side_effect_chain(versions_dir)
        run_deploy(database_url, versions_dir)
        result = cli("rollback", "--to", "base", "--versions-dir", str(versions_dir))
        assert result.exit_code == 0, result.output
        assert query(database_url, "SELECT to_regclass('side_effects')") == [(None,)]
        assert query(database_url, "SELECT count(*) FROM alembic_version") == [(0,)]

    def test_to_keeps_the_named_migration(self, database_url, versions_dir):
        names = side_effect_chain(versions_dir)
        run_deploy(database_url, versions_dir)
        undone = asyncio.run(deploy.rollback(database_url, versions_dir, to=names[0]))
        assert undone == [names[2], names[1]]

    def test_refuses_an_irreversible_migration(self, database_url, versions_dir, cli):
        names = side_effect_chain(versions_dir, 1)
        write_migration(versions_dir, "20300109000000_one_way", names[0], reversible="No",
                        upgrade="op.execute('DROP TABLE side_effects')")
        run_deploy(database_url, versions_dir)
        result = cli("rollback", "--versions-dir", str(versions_dir))
        assert result.exit_code == 1 and "Reversible: No" in result.output
        assert query(database_url, "SELECT version_num FROM alembic_version") == [
            ("20300109000000_one_way",)]

    def test_refuses_outside_development_and_test(self, database_url, versions_dir, cli):
        side_effect_chain(versions_dir, 1)
        run_deploy(database_url, versions_dir)
        refused = cli("rollback", "--versions-dir", str(versions_dir),
                      PANAMIA_ENV="production")
        assert refused.exit_code == 2 and "--yes-in-production" in refused.output
        assert len(query(database_url, "SELECT 1 FROM alembic_version")) == 1
        allowed = cli("rollback", "--yes-in-production", "--versions-dir", str(versions_dir),
                      PANAMIA_ENV="production")
        assert allowed.exit_code == 0, allowed.output
        assert query(database_url, "SELECT count(*) FROM alembic_version") == [(0,)]


class TestInProgress:
    def test_status_shows_applying_while_a_deploy_holds_the_lock(self, database_url,
                                                                 versions_dir):
        names = side_effect_chain(versions_dir, 1)
        run_deploy(database_url, versions_dir)
        query(database_url, "INSERT INTO panamia_migrations (migration_name, checksum, "
                            "applied_by) VALUES (:name, 'x', 'elsewhere')", name=names[0])

        async def while_locked():
            async with HeldConnection(database_url,
                                      f"SELECT pg_advisory_lock({deploy.LOCK_KEY})"):
                return await deploy.status(database_url, versions_dir)

        assert asyncio.run(while_locked()).entries[0].state == ledger.APPLYING
        assert asyncio.run(deploy.status(database_url, versions_dir)).entries[0].state == (
            ledger.FAILED)
