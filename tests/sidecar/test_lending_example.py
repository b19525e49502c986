"""The example sidecar of docs/sidecars.md (examples/lending/), installed the way a sidecar in
its own package is: its distribution's entry point on the path, its migration applied as an
Alembic branch beside the platform's, on a database of its own. The doc shows its files
whole; the last test holds the doc to them."""

import asyncio
import os
import re
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from panamia import demo
from panamia.apps import main
from panamia.db.postgres import Base
from panamia.schema import migrate
from panamia.sidecar import registry
from tests.fixtures.database import migrated_database
from tests.sidecar.distributions import install_distribution
from tests.identity.factories import create_user
from tests.pets.factories import act_as

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "lending"
DOC = ROOT / "docs" / "sidecars.md"
SHOWN = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", re.S)


@pytest.fixture(scope="module")
def lending(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        target = tmp_path_factory.mktemp("site-packages")
        project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
        install_distribution(target, project["name"],
                             project["entry-points"]["panamia.sidecars"])
        patch.syspath_prepend(str(EXAMPLE))
        patch.syspath_prepend(str(target))
        yield registry.find("lending")
    # Leave the platform's metadata as other tests in this process expect it.
    Base.metadata.remove(Base.metadata.tables["lending_loans"])
    for name in [m for m in sys.modules if m == "lending" or m.startswith("lending.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
async def committed_database_url(lending):
    """The `committed` resources' database, for this module: with the lending branch."""
    async with migrated_database("lending") as url:
        config = migrate.alembic_config(url)
        config.set_main_option("version_locations", os.pathsep.join(
            [str(migrate.VERSIONS_DIR), str(EXAMPLE / "lending" / "migrations")]))
        await asyncio.to_thread(command.upgrade, config, "lending@head")
        yield url


@pytest.fixture
def resources(committed):
    return committed


@pytest.fixture
async def clients(lending, resources):
    """The lending sidecar and the main app (where the CSRF token comes from)."""
    sidecar = registry.create_app(lending, resources.settings, resources)
    platform = main.create_app(resources.settings, resources)
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(sidecar),
                                  base_url="http://lending.test") as app,
                httpx.AsyncClient(transport=httpx.ASGITransport(platform),
                                  base_url="http://testserver") as main_app):
        yield app, main_app


class TestLending:
    async def test_a_loan_is_created_once_per_key(self, clients, resources):
        app, main_app = clients
        lender, borrower = await create_user(resources), await create_user(resources)
        headers = await act_as(app, main_app, resources, lender)
        body = {"borrowerId": borrower, "thing": "A drill"}
        key = {**headers, "Idempotency-Key": "drill-1"}
        first = await app.post("/loans", json=body, headers=key)
        again = await app.post("/loans", json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        other = await app.post("/loans", json={**body, "thing": "A saw"}, headers=key)
        assert other.status_code == 422
        nobody = await app.post("/loans", json={**body, "borrowerId": "nobody"}, headers=headers)
        assert nobody.status_code == 422 and nobody.json()["fields"][0]["field"] == "borrowerId"

    async def test_only_the_lender_takes_it_back_and_only_once(self, clients, resources):
        app, main_app = clients
        lender, borrower = await create_user(resources), await create_user(resources)
        headers = await act_as(app, main_app, resources, lender)
        loan = (await app.post("/loans", json={"borrowerId": borrower, "thing": "A tent"},
                               headers=headers)).json()
        as_borrower = await act_as(app, main_app, resources, borrower)
        refused = await app.post(f"/loans/{loan['id']}/return", headers=as_borrower)
        assert refused.status_code == 403
        headers = await act_as(app, main_app, resources, lender)
        back = await app.post(f"/loans/{loan['id']}/return", headers=headers)
        assert back.status_code == 200 and back.json()["status"] == "returned"
        twice = await app.post(f"/loans/{loan['id']}/return", headers=headers)
        assert twice.status_code == 409 and "The loan is returned" in twice.json()["detail"]

    async def test_the_page_lists_ones_loans_after_sign_in(self, clients, resources):
        app, main_app = clients
        anonymous = await app.get("/loans", headers={"Accept": "text/html"})
        assert anonymous.status_code == 401 and "Sign in to continue" in anonymous.text
        lender, borrower = await create_user(resources), await create_user(resources)
        headers = await act_as(app, main_app, resources, lender)
        await app.post("/loans", json={"borrowerId": borrower, "thing": "Kayak <2 seats>"},
                       headers=headers)
        page = await app.get("/loans", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Kayak &lt;2 seats&gt; (lent)" in page.text

    async def test_demo_data_is_seeded_once(self, lending, resources):
        await demo.seed(resources)
        await demo.seed(resources)
        async with resources.reads() as session:
            loans = (await session.execute(text("SELECT id, thing FROM lending_loans"))).all()
        assert [tuple(row) for row in loans] == [("demo-loan-ladder", "A ladder")]


class TestTheExampleAsShipped:
    async def test_its_migration_builds_what_its_model_describes(self, lending, resources):
        def differences(connection):
            found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            return [d for d in found if "lending_loans" in repr(d)]

        async with resources.engine.connect() as connection:
            assert await connection.run_sync(differences) == []

    def test_the_doc_shows_every_file_as_it_is_under_200_lines(self):
        shown = dict(SHOWN.findall(DOC.read_text()))
        files = sorted(str(p.relative_to(EXAMPLE)) for p in EXAMPLE.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
        assert sorted(shown) == files
        for name, block in shown.items():
            assert block == (EXAMPLE / name).read_text(), f"docs/sidecars.md shows an old {name}"
        code = [line for name in files if name.endswith(".py")
                for line in (EXAMPLE / name).read_text().splitlines() if line.strip()]
        assert len(code) < 200
