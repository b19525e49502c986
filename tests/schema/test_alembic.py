"""The committed migrations, on a fresh database each: pytest-alembic's standard checks
(single head, upgrade from empty, models match the DDL, up-down consistency), a stairway
(up to each revision, down one, up again) that a downgrade leaves no trace, and the
deploy ledger staying out of autogenerate."""

import asyncio

import pytest
from alembic import command
from pytest_alembic.tests import (  # noqa: F401 - collected as this module's tests
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from panamia.db.postgres import create_engine
from panamia.schema import deploy, migrate
from panamia.schema.files import migration_files


@pytest.fixture
def alembic_config():
    return migrate.alembic_config("")


@pytest.fixture
def alembic_engine(database_url):
    engine = create_engine(database_url, "tests", poolclass=NullPool)
    yield engine
    asyncio.run(engine.dispose())


# Everything a migration can leave behind in the catalog, one line per object. Extensions
# and their objects are left out: a downgrade may keep one on purpose, as other schemas may
# use it (20261125034340_add_pet_sitting_tables keeps btree_gist).
CATALOG = """
SELECT 'schema ' || nspname FROM pg_namespace
 WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
UNION ALL SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
UNION ALL SELECT 'column ' || c.relname || '.' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text || ' '
       || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' '
       || pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
UNION ALL SELECT 'index ' || indexdef FROM pg_indexes
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
UNION ALL SELECT 'type ' || t.typname || ' ' || t.typtype::text FROM pg_type t
 WHERE t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   AND NOT EXISTS (SELECT FROM pg_depend WHERE objid = t.oid AND deptype = 'e')
UNION ALL SELECT 'enum ' || t.typname || ' ' || e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
UNION ALL SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid)
       || ')' FROM pg_proc p
 WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   AND NOT EXISTS (SELECT FROM pg_depend WHERE objid = p.oid AND deptype = 'e')
UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger
 WHERE NOT tgisinternal
UNION ALL SELECT 'policy ' || tablename || ' ' || policyname FROM pg_policies
"""
BOOKKEEPING = ("alembic_version", "panamia_migrations")


def catalog(engine) -> list[str]:
    async def read():
        async with engine.connect() as conn:
            return sorted((await conn.execute(text(CATALOG))).scalars())

    return [line for line in asyncio.run(read()) if not any(t in line for t in BOOKKEEPING)]


def test_stairway_and_downgrades_leave_no_trace(alembic_runner, alembic_engine):
    revisions = [r.revision for r in migrate.Migrations.load("").revisions]
    assert revisions
    # A migration that only moves data leaves the catalog as it was.
    data_only = {f.name for f in migration_files() if f.headers.get("Data Migration") == "Inline"}
    for revision in revisions:
        before = catalog(alembic_engine)
        alembic_runner.migrate_up_to(revision)
        upgraded = catalog(alembic_engine)
        if revision not in data_only:
            assert upgraded != before, f"{revision} changed nothing in the catalog"
        alembic_runner.migrate_down_one()
        assert catalog(alembic_engine) == before, f"the downgrade of {revision} left a trace"
        alembic_runner.migrate_up_to(revision)
        assert catalog(alembic_engine) == upgraded, f"{revision} upgraded differently again"


def test_the_deploy_ledger_is_invisible_to_autogenerate(database_url):
    deploy.upgrade(database_url)
    command.check(migrate.alembic_config(database_url))  # raises on any difference
