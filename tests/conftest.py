"""Real servers for every test: embedded ones started once per run, or the URLs given.

The controlling pytest process starts the servers and hands their URLs to xdist workers
through the environment. Each worker migrates its own PostgreSQL database with Alembic;
each test runs inside a transaction that is rolled back, and gets a fresh MongoDB database.
"""

import asyncio
import email.policy
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from panamia.db.embedded import EmbeddedMongo, EmbeddedPostgres
from panamia.db.mongo import create_client
from panamia.db.postgres import create_engine, create_sessionmaker
from panamia.mail import SmtpMailer
from panamia.resources import Resources
from panamia.schema import migrate
from panamia.schema.mongo_indexes import ensure_indexes
from panamia.settings import Settings

POSTGRES_ENV = "PANAMIA_TEST_POSTGRES_URL"
MONGO_ENV = "PANAMIA_TEST_MONGODB_URL"
TEST_SECRET = "test-secret-" + "x" * 40
_embedded: list = []


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get(POSTGRES_ENV):
        return
    root = Path(tempfile.mkdtemp(prefix="panamia-test-"))
    postgres_url = os.environ.get("POSTGRES_URL")
    if not postgres_url:
        postgres = EmbeddedPostgres(root)
        postgres_url = postgres.start(database="postgres")
        _embedded.append(postgres)
    mongodb_url = os.environ.get("MONGODB_URL")
    if not mongodb_url:
        mongo = EmbeddedMongo(None, sync_on_commit=False)
        mongodb_url = mongo.start(preferred_port=None)
        _embedded.append(mongo)
    os.environ[POSTGRES_ENV] = postgres_url
    os.environ[MONGO_ENV] = mongodb_url


def pytest_unconfigure(config: pytest.Config) -> None:
    while _embedded:
        _embedded.pop().stop()


def worker_name(config: pytest.Config) -> str:
    return getattr(config, "workerinput", {}).get("workerid", "main")


def database_url(server_url: str, name: str) -> str:
    """The same server, another database."""
    base, _, query = server_url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


async def recreate_database(server_url: str, name: str) -> str:
    engine = create_engine(server_url, "tests", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return database_url(server_url, name)


@pytest.fixture(scope="session")
def server_urls() -> tuple[str, str]:
    return os.environ[POSTGRES_ENV], os.environ[MONGO_ENV]


@pytest.fixture(scope="session")
async def migrated_database_url(server_urls, pytestconfig) -> str:
    """A database for this worker, built by running the migrations to head."""
    url = await recreate_database(server_urls[0], f"panamia_test_{worker_name(pytestconfig)}")
    await asyncio.to_thread(migrate.upgrade, url)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What a real SMTP server (aiosmtpd) received."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message_from_bytes(m.content, policy=email.policy.default)
            for m in self.messages if address in m.rcpt_tos
        ]


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    return smtp_server.handler


@pytest.fixture
def settings(server_urls, migrated_database_url, smtp_server) -> Settings:
    return Settings(
        panamia_env="test",
        postgres_url=migrated_database_url,
        mongodb_url=server_urls[1],
        mongodb_db=f"test_{uuid.uuid4().hex[:12]}",
        auth_secret=TEST_SECRET,
        auth_url="http://testserver",
        pets_url="http://pets.testserver",
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        admin_emails="Admin@Example.org",
        _env_file=None,
    ).with_dev_outbox()  # used only by tests that drop smtp_url


@pytest.fixture(scope="session")
async def engine(migrated_database_url):
    engine = create_engine(migrated_database_url, "tests")
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def mongo_client(server_urls):
    client = create_client(server_urls[1], "tests")
    yield client
    await client.close()


@pytest.fixture
async def connection(engine) -> AsyncIterator:
    """One connection in an outer transaction; services' commits become savepoints."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture
async def resources(settings, connection, mongo_client) -> AsyncIterator[Resources]:
    sessionmaker = create_sessionmaker(connection)
    sessionmaker.configure(join_transaction_mode="create_savepoint")
    mongo = mongo_client[settings.mongodb_db]
    await ensure_indexes(mongo)
    yield Resources(
        settings=settings,
        db=sessionmaker,
        reads=sessionmaker,
        mongo=mongo,
        mailer=SmtpMailer(settings.smtp_url, settings.mail_from),
    )
    await mongo_client.drop_database(settings.mongodb_db)


def asgi_client(app, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
def main_app(settings, resources):
    from panamia.apps.main import create_app

    return create_app(settings, resources)


@pytest.fixture
async def client(main_app) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(main_app) as client:
        yield client
