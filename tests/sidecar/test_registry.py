"""Sidecars are found through their one declaration in the `panamia.sidecars` entry-point
group: pets from this repository's own distribution, and a sidecar from a distribution of its
own, installed beside it (a `*.dist-info` with its `entry_points.txt` on the path)."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from panamia import cli, dev
from panamia.apps import main
from panamia.pets.sidecar import SIDECAR as PETS
from panamia.settings import Settings
from panamia.sidecar import registry
from tests.fixtures.browser import server_env
from tests.fixtures.http import asgi_client
from tests.fixtures.servers import free_port, wait_until_healthy
from tests.identity.factories import magic_link, press_sign_in, request_link, unique_email
from tests.sidecar.distributions import install_distribution

PROBE_MODULE = '''
import typer
from fastapi import APIRouter
from panamia.sidecar.registry import Sidecar

router = APIRouter()


@router.get("/probe")
async def probe():
    return {{"sidecar": "{name}"}}


commands = typer.Typer(help="The probe's own commands.")


@commands.command()
def hello():
    print("hello from {name}")


SIDECAR = Sidecar(name="{name}", title="A probe", default_port=8123, routers=[router],
                  cli=commands)
'''


def install_probe(directory: Path, name: str, *, declared_as: str | None = None) -> None:
    module = f"{name}_sidecar"
    (directory / f"{module}.py").write_text(PROBE_MODULE.format(name=declared_as or name))
    install_distribution(directory, f"{name}-sidecar", {name: f"{module}:SIDECAR"})


def served(help_text: str) -> set[str]:
    """The service names `panamia serve --help` offers (`main|pets|…`)."""
    return set(re.search(r"main(?:\|[\w-]+)*", help_text).group(0).split("|"))


@pytest.fixture
def probe(tmp_path, monkeypatch) -> str:
    name = f"probe{uuid.uuid4().hex[:8]}"
    install_probe(tmp_path, name)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


class TestDiscover:
    def test_pets_is_found_through_its_entry_point(self):
        assert registry.find("pets") is PETS
        assert PETS.default_port == 8001 and PETS.cli is not None and PETS.demo is not None

    def test_a_sidecar_installed_from_another_distribution_is_found(self, probe):
        names = [sidecar.name for sidecar in registry.discover()]
        assert probe in names and "pets" in names
        assert registry.find(probe).default_port == 8123

    def test_a_declaration_under_another_name_is_refused(self, tmp_path, monkeypatch):
        install_probe(tmp_path, "mislabelled", declared_as="other")
        monkeypatch.syspath_prepend(str(tmp_path))
        with pytest.raises(registry.SidecarError, match="mislabelled"):
            registry.discover()


class TestDocsIndex:
    def test_the_readme_lists_every_sidecar_from_its_declaration(self):
        readme = (Path(__file__).parents[2] / "README.md").read_text()
        start, end = "<!-- sidecars:start -->\n", "<!-- sidecars:end -->"
        section = readme[readme.index(start) + len(start):readme.index(end)]
        assert section == registry.docs_index(), (
            "README.md's list of sidecars is out of date; replace it with:\n"
            + registry.docs_index())


class TestApp:
    async def test_an_app_built_from_the_declaration_serves_the_pets_routes(
        self, settings, resources
    ):
        app = registry.create_app(PETS, settings, resources)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                     base_url="http://pets.testserver") as pets:
            listings = await pets.get("/listings")
            page = await pets.get("/", headers={"Accept": "text/html"})
        assert listings.status_code == 200 and listings.json()["items"] == []
        assert page.status_code == 200 and "Find a pet sitter" in page.text

    async def test_an_outside_sidecar_gets_its_app_the_same_way(self, probe, settings,
                                                                 resources):
        app = registry.create_app(registry.find(probe), settings, resources)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                     base_url="http://probe.testserver") as client:
            answer = await client.get("/probe")
            health = await client.get("/health")
        assert answer.json() == {"sidecar": probe}
        assert health.json() == {"postgres": "ok", "mongo": "ok"}


class TestCommands:
    def test_serve_lists_the_discovered_sidecars(self):
        result = CliRunner().invoke(cli.app, ["serve", "--help"])
        assert result.exit_code == 0
        assert {"main", "pets"} <= served(result.output)

    def test_pets_commands_come_from_its_declaration(self):
        result = CliRunner().invoke(cli.app, ["pets", "--help"])
        assert result.exit_code == 0 and "expire" in result.output

    def test_serve_runs_a_sidecar_from_its_entry_point(self, committed_settings, tmp_path):
        port, log = free_port(), tmp_path / "serve.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "panamia", "serve", "pets", "--port", str(port)],
                env=server_env(committed_settings, tmp_path), stdin=subprocess.DEVNULL,
                stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(process, port, log)
            listings = httpx.get(f"http://127.0.0.1:{port}/listings", timeout=10)
        finally:
            process.terminate()
            process.wait(15)
        assert listings.status_code == 200 and "items" in listings.json()

    def test_an_outside_sidecar_has_serve_dev_and_its_commands(self, tmp_path):
        name = f"probe{uuid.uuid4().hex[:8]}"
        install_probe(tmp_path, name)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]),
                   COLUMNS="200")

        def panamia(*args: str) -> str:
            done = subprocess.run([sys.executable, "-m", "panamia", *args], env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout

        assert {"main", "pets", name} <= served(panamia("serve", "--help"))
        assert f"--{name}-port" in panamia("dev", "--help")
        assert f"hello from {name}" in panamia(name, "hello")


class TestPublicUrl:
    def test_it_is_name_url_as_panamia_dev_sets_it(self, probe, monkeypatch):
        monkeypatch.setenv(dev._url_variable(probe), "https://probe.example.org/")
        assert registry.find(probe).url(Settings(_env_file=None)) == "https://probe.example.org"

    def test_it_is_read_from_the_env_file_too(self, probe, tmp_path):
        env_file = tmp_path / ".env"
        env_file.write_text(f"{probe.upper()}_URL=https://from-file.example.org\n")
        settings = Settings(_env_file=env_file)
        assert registry.find(probe).url(settings) == "https://from-file.example.org"

    def test_by_default_it_is_localhost_on_the_sidecar_s_port(self, probe):
        assert registry.find(probe).url(Settings(_env_file=None)) == "http://localhost:8123"

    def test_pets_keeps_pets_url(self, monkeypatch):
        monkeypatch.setenv("PETS_URL", "https://pets.example.org")
        assert PETS.url(Settings(_env_file=None)) == "https://pets.example.org"

    def test_a_setting_of_its_own_is_no_sidecar_url(self, monkeypatch):
        monkeypatch.setenv("POSTGRES_URL", "postgresql://secret@db/panamia")
        assert "postgres" not in Settings(_env_file=None).public_urls


class TestSignInReturns:
    """Sign-in comes back to any installed sidecar's public URL, and to nowhere else."""

    async def signed_in_towards(self, probe, settings, resources, mailbox, callback_url):
        settings.public_urls.update({probe: "http://probe.testserver",
                                     "uninstalled": "http://uninstalled.testserver"})
        async with asgi_client(main.create_app(settings, resources)) as client:
            email = unique_email()
            await request_link(client, email, callbackUrl=callback_url)
            opened = await press_sign_in(client, magic_link(mailbox.to(email)[-1]))
        assert opened.status_code == 303
        return opened.headers["location"]

    async def test_a_sidecar_s_page_is_where_sign_in_lands(self, probe, settings, resources,
                                                            mailbox):
        target = "http://probe.testserver/things?page=2"
        assert await self.signed_in_towards(probe, settings, resources, mailbox,
                                            target) == target

    async def test_a_url_of_no_installed_sidecar_is_refused(self, probe, settings, resources,
                                                            mailbox):
        for elsewhere in ("http://uninstalled.testserver/x", "http://probe.testserver.evil/x",
                          "https://probe.testserver/x"):
            assert await self.signed_in_towards(probe, settings, resources, mailbox,
                                                elsewhere) == "http://testserver/"
