"""A Next.js app's Auth.js half, built from docs/identity.md, on a database `panamia db deploy`
migrated.

The npm packages pinned in tests/interop/authjs/package-lock.json are installed once per lock
into `.panamia/node-interop/<lock hash>/`. Each run writes the doc's `schema.prisma`,
`prisma.ts`, `auth-adapter.ts` and `auth.ts` next to them, generates the Prisma client,
bundles the TypeScript with esbuild and serves it with Node.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from filelock import FileLock

from panamia.resources import Resources
from panamia.settings import Settings
from tests.fixtures.database import empty_database
from tests.fixtures.http import asgi_client
from tests.fixtures.resources import TEST_SECRET
from tests.interop.doc import doc_block

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(__file__).with_name("authjs")
CACHE = REPO / ".panamia" / "node-interop"
NODE_MINIMUM = (20, 19)  # Prisma 7's floor
NPM_INSTALL = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"]
# `prisma generate` insists that a schema engine binary exists (downloading one from
# binaries.prisma.sh, which is not npm) although generating never runs it. Point it at this
# stand-in, which would fail loudly if Prisma ever did run it.
NO_SCHEMA_ENGINE = "#!/bin/sh\necho 'the Prisma schema engine is not installed here' >&2\nexit 1\n"


def run(command: list[str], cwd: Path, timeout: float, env: dict | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` failed in {cwd}:\n{done.stdout}\n{done.stderr}")


def require_node() -> None:
    install = "Install Node.js 20.19 or later with npm (https://nodejs.org/en/download)."
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail(f"The Auth.js interop tests need `node` and `npm` on PATH. {install}")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    if tuple(int(part) for part in version.strip().lstrip("v").split(".")[:2]) < NODE_MINIMUM:
        pytest.fail(f"The Auth.js interop tests need Node 20.19 or later, not {version}. {install}")


@pytest.fixture(scope="session")
def node_packages() -> Path:
    """The pinned packages, installed once per lock file (npm needs the registry the first time)."""
    require_node()
    lock = (PACKAGE / "package-lock.json").read_bytes()
    home = CACHE / hashlib.sha256(lock).hexdigest()[:16]
    home.mkdir(parents=True, exist_ok=True)
    with FileLock(str(home) + ".lock"):
        if not (home / "installed").exists():
            for stale in CACHE.iterdir():  # installs of earlier locks
                if stale.is_dir() and stale != home:
                    shutil.rmtree(stale, ignore_errors=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(PACKAGE / name, home / name)
            run(NPM_INSTALL, home, timeout=600)
            (home / "installed").touch()
    return home


@pytest.fixture(scope="module")
def nextjs_build(node_packages) -> Iterator[Path]:
    """The doc's files with the test server, generated and bundled into one ES module."""
    build = node_packages / "runs" / uuid.uuid4().hex
    shutil.copytree(PACKAGE, build, ignore=shutil.ignore_patterns("package*.json"))
    (build / "prisma").mkdir()
    (build / "prisma" / "schema.prisma").write_text(doc_block("prisma"))
    for name in ("prisma.ts", "auth-adapter.ts", "auth.ts"):
        (build / name).write_text(doc_block("ts", f"// {name}"))
    engine = build / "no-schema-engine"
    engine.write_text(NO_SCHEMA_ENGINE)
    engine.chmod(0o755)
    bin_ = node_packages / "node_modules" / ".bin"
    run([str(bin_ / "prisma"), "generate", "--schema", "prisma/schema.prisma"], build,
        timeout=120, env=dict(os.environ, PRISMA_SCHEMA_ENGINE_BINARY=str(engine),
                              PRISMA_HIDE_UPDATE_MESSAGE="1"))
    run([str(bin_ / "esbuild"), "server.js", "--bundle", "--platform=node", "--format=esm",
         "--packages=external", "--alias:next-auth=./next-auth", "--outfile=server.mjs",
         "--log-level=warning"], build, timeout=120)
    yield build
    shutil.rmtree(build, ignore_errors=True)


@pytest.fixture(scope="module")
async def deployed_database_url(server_urls) -> AsyncIterator[str]:
    """A fresh database migrated the way an operator does it: `panamia db deploy`."""
    async with empty_database("panamia_authjs") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "PANAMIA_"))}
        env.update(PANAMIA_ENV="test", POSTGRES_URL=url, MONGODB_URL=server_urls[1],
                   MONGODB_DB=f"authjs_{uuid.uuid4().hex[:12]}", AUTH_SECRET=TEST_SECRET)
        run([sys.executable, "-m", "panamia", "db", "deploy"], REPO, timeout=300, env=env)
        yield url


@pytest.fixture(scope="module")
def interop_settings(server_urls, deployed_database_url, smtp_server) -> Settings:
    return Settings(
        panamia_env="test", postgres_url=deployed_database_url, mongodb_url=server_urls[1],
        mongodb_db=f"authjs_{uuid.uuid4().hex[:12]}", auth_secret=TEST_SECRET,
        auth_url="http://testserver", smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        _env_file=None,
    )


@pytest.fixture(scope="module")
async def python_side(interop_settings, mongo_client) -> AsyncIterator[Resources]:
    """What the Python services hold: their transactions commit, for Node to see."""
    resources = Resources.open(interop_settings, "tests")
    yield resources
    await resources.close()
    await mongo_client.drop_database(interop_settings.mongodb_db)


@pytest.fixture
async def python_app(python_side) -> AsyncIterator[httpx.AsyncClient]:
    from panamia.apps.main import create_app

    async with asgi_client(create_app(python_side.settings, python_side)) as client:
        yield client


@pytest.fixture(scope="module")
def nextjs_url(nextjs_build, deployed_database_url, smtp_server) -> Iterator[str]:
    """The Next.js app's Auth.js, served by Node, with the same AUTH_SECRET as Python."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "NEXTAUTH_"))}
    env.update(AUTH_SECRET=TEST_SECRET, POSTGRES_URL=deployed_database_url,
               SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}",
               MAIL_FROM="Next app <next@example.org>")
    log = nextjs_build / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(["node", "server.mjs"], cwd=nextjs_build, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=sink)
    try:
        first_line = process.stdout.readline()
        if not first_line:
            pytest.fail(f"the Node server exited:\n{log.read_text()}")
        yield f"http://127.0.0.1:{json.loads(first_line)['port']}"
    finally:
        process.terminate()
        process.wait(10)


class Adapter:
    """The wrapped adapter's methods, called in the Node process as Auth.js calls them."""

    def __init__(self, http: httpx.AsyncClient):
        self.http = http

    async def __call__(self, method: str, *args):
        answer = await self.http.post(f"/adapter/{method}", json=list(args))
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
async def nextjs(nextjs_url) -> AsyncIterator[httpx.AsyncClient]:
    """A browser talking to the Next.js app (its own cookie jar)."""
    async with httpx.AsyncClient(base_url=nextjs_url, timeout=30) as client:
        yield client


@pytest.fixture
async def adapter(nextjs_url) -> AsyncIterator[Adapter]:
    async with httpx.AsyncClient(base_url=nextjs_url, timeout=30) as client:
        yield Adapter(client)
