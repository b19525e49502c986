"""`panamia db deploy`: the lock, the ledger, failures, lock timeouts, poolers, MongoDB steps."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from panamia.db.mongo import create_client
from panamia.db.postgres import create_engine
from panamia.schema import deploy, migrate, mongo_steps
from panamia.schema.files import migration_files
from panamia.schema.migrate import MigrationFailed, Refused
from tests.schema.factories import query, side_effect_chain, write_migration


def only_postgres(versions_dir):
    """The command-line options of a deploy of `versions_dir` with no MongoDB step to apply
    (the package's own steps would need MONGODB_URL)."""
    return ("--versions-dir", str(versions_dir),
            "--mongo-steps-dir", str(versions_dir.parent / "no_mongo_steps"))


def run_deploy(url, versions_dir, **options):
    return asyncio.run(deploy.deploy(url, versions_dir, **options))


def ledger_rows(url):
    return query(url, "SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL,"
                      " allow_modified, logs FROM panamia_migrations ORDER BY id")


class HeldConnection:
    """A second session that holds a lock until closed, as a stuck deploy or a long
    transaction would."""

    def __init__(self, url: str, *statements: str):
        self.url, self.statements = url, statements

    async def __aenter__(self):
        self.engine = create_engine(self.url, "holder", poolclass=NullPool)
        self.conn = await self.engine.connect()
        for statement in self.statements:
            await self.conn.execute(text(statement))
        self.pid = (await self.conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        return self

    async def __aexit__(self, *exc):
        await self.conn.close()
        await self.engine.dispose()


class TestConcurrentDeploys:
    def test_three_processes_apply_each_migration_once(self, database_url, versions_dir,
                                                       tmp_path):
        names = side_effect_chain(versions_dir)
        # the first migration sleeps so that the three processes overlap
        first = versions_dir / f"{names[0]}.py"
        first.write_text(first.read_text().replace(
            "op.execute('CREATE TABLE", "op.execute('SELECT pg_sleep(1)')\n    op.execute('"
            "CREATE TABLE"))
        env = {k: v for k, v in os.environ.items()
               if k not in ("POSTGRES_DIRECT_URL", "MONGODB_URL")}
        env.update(POSTGRES_URL=database_url, PANAMIA_ENV="test")
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "panamia.schema.cli", "deploy", *only_postgres(versions_dir),
                 "--lock-wait", "30"],
                env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True)
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=60)[0] for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], outputs
        assert sum("applied 3 PostgreSQL" in out for out in outputs) == 1, outputs
        assert sum("nothing to apply" in out for out in outputs) == 2, outputs
        assert [r[:2] for r in ledger_rows(database_url)] == [(n, True) for n in names]
        assert query(database_url, "SELECT name, count(*) FROM side_effects GROUP BY name "
                                   "ORDER BY name") == [(n, 1) for n in names]
        assert query(database_url, "SELECT version_num FROM alembic_version") == [(names[-1],)]

    def test_nothing_pending_takes_no_lock(self, database_url, versions_dir):
        side_effect_chain(versions_dir)
        run_deploy(database_url, versions_dir)

        async def while_locked():
            async with HeldConnection(database_url, f"SELECT pg_advisory_lock({deploy.LOCK_KEY})"):
                return await deploy.deploy(database_url, versions_dir, lock_wait=0)

        assert asyncio.run(while_locked()) == deploy.Deployed([], [], locked=False)

    def test_a_held_lock_names_its_holder(self, database_url, versions_dir, cli):
        side_effect_chain(versions_dir)

        async def while_locked():
            async with HeldConnection(database_url,
                                      f"SELECT pg_advisory_lock({deploy.LOCK_KEY})") as holder:
                started = time.monotonic()
                result = await asyncio.to_thread(
                    cli, "deploy", *only_postgres(versions_dir), "--lock-wait", "0.5")
                return holder.pid, result, time.monotonic() - started

        pid, result, waited = asyncio.run(while_locked())
        assert result.exit_code == 1
        assert f"held by pid {pid}" in result.output
        assert f"SELECT pg_terminate_backend({pid});" in result.output
        assert 0.5 <= waited < 5
        assert query(database_url, "SELECT to_regclass('side_effects')") == [(None,)]


class TestLedger:
    def test_upgrade_goes_through_deploy(self, database_url):
        deploy.upgrade(database_url)
        names = [m.name for m in migration_files(migrate.VERSIONS_DIR)]
        assert [r[:3] for r in ledger_rows(database_url)] == [(n, True, False) for n in names]

    def test_upgrade_stops_at_the_revision_given(self, database_url, versions_dir):
        names = side_effect_chain(versions_dir)
        run_deploy(database_url, versions_dir, target=names[0])
        assert [r[0] for r in ledger_rows(database_url)] == names[:1]


class TestModifiedMigration:
    def test_status_reports_it_deploy_refuses_it_allow_modified_records_it(
            self, database_url, versions_dir, cli):
        for migration in migration_files(migrate.VERSIONS_DIR):
            shutil.copy(migration.path, versions_dir)
        run_deploy(database_url, versions_dir)
        edited = migration_files(versions_dir)[0]
        edited.path.write_text(edited.path.read_text() + "\n# edited after it was applied\n")

        status = cli("status", *only_postgres(versions_dir))
        assert status.exit_code == 1
        assert "modified" in status.output

        refused = cli("deploy", *only_postgres(versions_dir))
        assert refused.exit_code == 1
        assert edited.name in refused.output and "--allow-modified" in refused.output

        write_migration(versions_dir, "20300101000000_after_the_edit",
                        migration_files(versions_dir)[-1].name)
        allowed = cli("deploy", *only_postgres(versions_dir), "--allow-modified")
        assert allowed.exit_code == 0, allowed.output
        last = ledger_rows(database_url)[-1]
        assert last[0] == "20300101000000_after_the_edit" and last[3] is True
        assert edited.name in last[4]


AUTOCOMMIT_THEN_FAIL = (
    "with op.get_context().autocommit_block():\n"
    "    op.execute('CREATE INDEX CONCURRENTLY ix_side_effects_name ON side_effects (name)')\n"
    "    op.execute('SELECT 1/0')")


def failing_migration(versions_dir, upgrade: str):
    """The chain of one table, then 20300102000000_divide doing `upgrade`."""
    names = side_effect_chain(versions_dir, 1)
    return write_migration(versions_dir, "20300102000000_divide", names[0], upgrade=upgrade)


class TestFailedMigration:
    @pytest.mark.parametrize("upgrade", [
        "op.execute('CREATE TABLE half_done (id int)')\nop.execute('SELECT 1/0')",
        # it fails before its autocommit_block() has committed anything
        "op.execute('CREATE TABLE half_done (id int)')\nop.execute('SELECT 1/0')\n"
        "with op.get_context().autocommit_block():\n    op.execute('SELECT 1')",
    ], ids=["one-transaction", "before-its-autocommit-block"])
    def test_is_rolled_back_recorded_and_run_again_by_the_next_deploy(
            self, database_url, versions_dir, cli, upgrade):
        failing = failing_migration(versions_dir, upgrade)
        with pytest.raises(MigrationFailed, match="division by zero") as failed:
            run_deploy(database_url, versions_dir)
        assert "the next deploy runs it again" in str(failed.value)
        assert "resolve" not in str(failed.value)
        name, finished, rolled_back, _, logs = ledger_rows(database_url)[-1]
        assert (name, finished, rolled_back) == ("20300102000000_divide", False, True)
        assert "division by zero" in logs
        assert query(database_url, "SELECT to_regclass('half_done')") == [(None,)]

        status = cli("status", "--json", *only_postgres(versions_dir))
        assert status.exit_code == 0, status.output
        divide = json.loads(status.output)["postgres"][-1]
        assert divide["state"] == "pending" and "division by zero" in divide["logs"]

        again = cli("deploy", *only_postgres(versions_dir))  # no resolve needed
        assert again.exit_code == 1 and "division by zero" in again.output

        failing.write_text(failing.read_text().replace("SELECT 1/0", "SELECT 1"))
        assert cli("deploy", *only_postgres(versions_dir)).exit_code == 0
        assert [r[:3] for r in ledger_rows(database_url)[1:]] == [
            ("20300102000000_divide", False, True), ("20300102000000_divide", False, True),
            ("20300102000000_divide", True, False)]
        assert query(database_url, "SELECT to_regclass('half_done')::text") == [("half_done",)]
        history = cli("history")
        assert history.output.count("failed, rolled back") == 2, history.output

    def test_after_its_autocommit_block_committed_it_waits_for_resolve(
            self, database_url, versions_dir, cli):
        failing = failing_migration(versions_dir, AUTOCOMMIT_THEN_FAIL)
        with pytest.raises(MigrationFailed, match="division by zero") as failed:
            run_deploy(database_url, versions_dir)
        assert "panamia db resolve 20300102000000_divide --rolled-back" in str(failed.value)
        name, finished, rolled_back, _, logs = ledger_rows(database_url)[-1]
        assert (name, finished, rolled_back) == ("20300102000000_divide", False, False)
        assert "division by zero" in logs
        # the index was committed by its autocommit_block() before the failure
        index = "SELECT to_regclass('ix_side_effects_name')::text"
        assert query(database_url, index) == [("ix_side_effects_name",)]

        status = cli("status", "--json", *only_postgres(versions_dir))
        assert status.exit_code == 1 and '"state": "failed"' in status.output

        refused = cli("deploy", *only_postgres(versions_dir))
        assert refused.exit_code == 1
        assert "20300102000000_divide failed after part of it may have committed" in (
            " ".join(refused.output.split()))
        assert "panamia db resolve 20300102000000_divide --rolled-back" in refused.output
        assert len(ledger_rows(database_url)) == 2  # the refusal ran nothing

        query(database_url, "DROP INDEX ix_side_effects_name")  # undone by hand
        failing.write_text(failing.read_text().replace("SELECT 1/0", "SELECT 1"))
        resolved = cli("resolve", "20300102000000_divide", "--rolled-back",
                       "--versions-dir", str(versions_dir))
        assert resolved.exit_code == 0, resolved.output
        assert cli("deploy", *only_postgres(versions_dir)).exit_code == 0
        assert [r[:3] for r in ledger_rows(database_url)[-2:]] == [
            ("20300102000000_divide", False, True), ("20300102000000_divide", True, False)]
        assert query(database_url, index) == [("ix_side_effects_name",)]

    def test_resolve_applied_stamps_alembic_version(self, database_url, versions_dir, cli):
        failing_migration(versions_dir, AUTOCOMMIT_THEN_FAIL)
        with pytest.raises(MigrationFailed):
            run_deploy(database_url, versions_dir)
        resolved = cli("resolve", "20300102000000_divide", "--applied",
                       "--versions-dir", str(versions_dir))
        assert resolved.exit_code == 0, resolved.output
        assert query(database_url, "SELECT version_num FROM alembic_version") == [
            ("20300102000000_divide",)]
        write_migration(versions_dir, "20300103000000_next", "20300102000000_divide")
        assert run_deploy(database_url, versions_dir).applied == ["20300103000000_next"]
        assert cli("status", *only_postgres(versions_dir)).exit_code == 0

    def test_resolve_refuses_a_migration_that_did_not_fail(self, database_url, versions_dir,
                                                           cli):
        names = side_effect_chain(versions_dir, 1)
        run_deploy(database_url, versions_dir)
        result = cli("resolve", names[0], "--applied", "--versions-dir", str(versions_dir))
        assert result.exit_code == 1 and "not failed" in result.output


class TestLockTimeout:
    @pytest.fixture
    def guarded(self, database_url, versions_dir):
        """A table, then a pending migration that alters it."""
        write_migration(versions_dir, "20300101000001_guarded", None,
                        upgrade="op.execute('CREATE TABLE guarded (id int)')")
        run_deploy(database_url, versions_dir)
        write_migration(versions_dir, "20300101000002_alter_guarded", "20300101000001_guarded",
                        upgrade="op.execute('ALTER TABLE guarded ADD COLUMN note text')")

    def deploy_while_locked(self, url, versions_dir, **options):
        """Deploy while another session holds guarded; the holder's pid and the failure."""
        async def run():
            async with HeldConnection(url, "BEGIN",
                                      "LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE") as holder:
                with pytest.raises(MigrationFailed) as failed:
                    await deploy.deploy(url, versions_dir, lock_timeout="100ms", **options)
                return holder.pid, str(failed.value)

        return asyncio.run(run())

    def test_retries_then_fails_naming_the_table(self, database_url, versions_dir, guarded):
        said = []
        pid, message = self.deploy_while_locked(database_url, versions_dir, lock_retries=2,
                                                retry_wait=0.05, say=said.append)
        assert sum("retrying" in line for line in said) == 2
        assert "table guarded (AccessExclusiveLock held by pid" in message
        assert f"pg_terminate_backend({pid})" in message
        assert "lock timeout (100ms) 3 times" in message

    def test_the_next_deploy_applies_it_by_itself_and_history_keeps_both_attempts(
            self, database_url, versions_dir, guarded, cli):
        self.deploy_while_locked(database_url, versions_dir, lock_retries=0)
        assert query(database_url, "SELECT count(*) FROM information_schema.columns WHERE "
                                   "table_name = 'guarded' AND column_name = 'note'") == [(0,)]

        result = cli("deploy", *only_postgres(versions_dir))  # the lock is gone
        assert result.exit_code == 0, result.output
        assert "applied 1 PostgreSQL" in result.output
        assert query(database_url, "SELECT count(*) FROM information_schema.columns WHERE "
                                   "table_name = 'guarded' AND column_name = 'note'") == [(1,)]
        attempts = [r for r in ledger_rows(database_url)
                    if r[0] == "20300101000002_alter_guarded"]
        assert [r[1:3] for r in attempts] == [(False, True), (True, False)]
        assert "55P03" in attempts[0][4] and "blocked on table guarded" in attempts[0][4]
        history = cli("history")
        assert history.exit_code == 0, history.output
        assert history.output.count("20300101000002_alter_guarded") == 2
        assert "failed, rolled back" in history.output


class TestPoolers:
    @pytest.mark.parametrize("url", [
        "postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:5432/postgres",
        "postgresql://u:p@db.example.org:6543/postgres",
        "postgresql://u:p@ep-cool-name-123-pooler.eu-central-1.aws.neon.tech/neondb",
        "postgresql://u:p@db.example.org:5432/app?pgbouncer=true",
    ])
    def test_a_pooler_url_is_refused(self, url, versions_dir):
        with pytest.raises(Refused, match="POSTGRES_DIRECT_URL"):
            run_deploy(url, versions_dir)

    def test_the_direct_url_wins_over_a_pooled_one(self, database_url, versions_dir, cli):
        side_effect_chain(versions_dir, 1)
        pooled = "postgresql://u:p@ep-x-pooler.neon.tech/db"
        refused = cli("deploy", *only_postgres(versions_dir), POSTGRES_URL=pooled)
        assert refused.exit_code == 1 and "pooler" in refused.output
        result = cli("deploy", *only_postgres(versions_dir), POSTGRES_URL=pooled,
                     POSTGRES_DIRECT_URL=database_url)
        assert result.exit_code == 0, result.output


STEP = '''"""{doc}

Migration: {name}
Purpose: exercise MongoDB steps
Ticket: N/A
Reversible: Yes
"""


async def apply(db):
{body}
'''


class TestMongoSteps:
    def test_applied_after_postgres_once_and_checked(self, database_url, versions_dir,
                                                     server_urls, tmp_path):
        side_effect_chain(versions_dir, 1)
        steps = tmp_path / "mongo_steps"
        steps.mkdir()
        (steps / "20300101000001_index_things.py").write_text(STEP.format(
            doc="Index things.", name="20300101000001_index_things",
            body="    await db.things.create_index('slug', unique=True)"))
        (steps / "20300101000002_backfill_things.py").write_text(STEP.format(
            doc="Backfill things.", name="20300101000002_backfill_things",
            body="    await db.things.update_one({'slug': 'a'}, {'$inc': {'runs': 1}}, "
                 "upsert=True)"))
        said = []

        async def scenario():
            client = create_client(server_urls[1], "tests")
            db = client[f"steps_{os.getpid()}_{time.monotonic_ns()}"]
            try:
                first = await deploy.deploy(database_url, versions_dir, mongo=db,
                                            mongo_steps_dir=steps, say=said.append)
                again = await deploy.deploy(database_url, versions_dir, mongo=db,
                                            mongo_steps_dir=steps)
                thing = await db.things.find_one({"slug": "a"})
                ledger = await db[mongo_steps.LEDGER_COLLECTION].find({}).to_list(None)
                step = steps / "20300101000002_backfill_things.py"
                step.write_text(step.read_text() + "\n# edited\n")
                states = [e.state for e in await mongo_steps.entries(db, steps)]
                with pytest.raises(Refused, match="MongoDB steps"):
                    await deploy.deploy(database_url, versions_dir, mongo=db,
                                        mongo_steps_dir=steps)
                return first, again, thing, ledger, states
            finally:
                await client.drop_database(db.name)
                await client.close()

        first, again, thing, ledger, states = asyncio.run(scenario())
        assert first.mongo_applied == ["20300101000001_index_things",
                                       "20300101000002_backfill_things"]
        assert said.index("applying 20300101000001_step_1") < said.index(
            "MongoDB: applying 20300101000001_index_things")
        assert again == deploy.Deployed([], [], locked=False)
        assert thing["runs"] == 1
        assert sorted(d["name"] for d in ledger) == first.mongo_applied
        assert all(d["checksum"] and d["appliedAt"] for d in ledger)
        assert states == ["applied", "modified"]


class TestTransactionModes:
    def test_an_autocommit_block_migration_is_started_then_finished(self, database_url,
                                                                   versions_dir):
        names = side_effect_chain(versions_dir, 1)
        write_migration(
            versions_dir, "20300104000000_concurrent_index", names[0],
            upgrade="with op.get_context().autocommit_block():\n"
                    "    op.execute('CREATE INDEX CONCURRENTLY ix_side_effects_name "
                    "ON side_effects (name)')\n"
                    "op.execute(\"INSERT INTO side_effects VALUES ('after the block')\")",
            downgrade="op.execute('DROP INDEX ix_side_effects_name')")
        write_migration(versions_dir, "20300105000000_then", "20300104000000_concurrent_index")
        assert run_deploy(database_url, versions_dir).applied == [
            names[0], "20300104000000_concurrent_index", "20300105000000_then"]
        assert query(database_url, "SELECT version_num FROM alembic_version") == [
            ("20300105000000_then",)]
        assert ("after the block",) in query(database_url, "SELECT name FROM side_effects")
        assert [r[:3] for r in ledger_rows(database_url)] == [
            (names[0], True, False), ("20300104000000_concurrent_index", True, False),
            ("20300105000000_then", True, False)]

    def test_a_killed_deploy_leaves_nothing_and_the_next_one_applies(self, database_url,
                                                                    versions_dir, tmp_path):
        names = side_effect_chain(versions_dir, 2)
        second = versions_dir / f"{names[1]}.py"
        second.write_text(second.read_text().replace(
            "op.execute(\"INSERT", "op.execute('SELECT pg_sleep(1.5)')\n    op.execute(\"INSERT"))
        env = {k: v for k, v in os.environ.items() if k != "POSTGRES_DIRECT_URL"}
        env.update(POSTGRES_URL=database_url, MONGODB_URL="", PANAMIA_ENV="test")
        process = subprocess.Popen(
            [sys.executable, "-m", "panamia.schema.cli", "deploy", *only_postgres(versions_dir)],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not query(database_url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE "
                                      "'SELECT pg_sleep%' AND datname = current_database()"):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.kill()
        process.wait()

        assert run_deploy(database_url, versions_dir).applied == [names[1]]
        assert [r[:3] for r in ledger_rows(database_url)] == [(names[0], True, False),
                                                              (names[1], True, False)]
        assert query(database_url, "SELECT name FROM side_effects ORDER BY name") == [
            (names[0],), (names[1],)]
