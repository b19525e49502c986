"""Real servers and databases for every test: the fixtures live in tests/fixtures/, by
subject, and are registered here; tests/fixtures/servers.py starts the servers once per run.

Each xdist worker migrates its own PostgreSQL database with Alembic; each test runs inside a
transaction that is rolled back, and gets a fresh MongoDB database.
"""

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.database",
    "tests.fixtures.resources",
    "tests.fixtures.http",
    "tests.fixtures.browser",
    "tests.fixtures.cli",
    "tests.fixtures.oidc",
    "tests.fixtures.topology",
    "tests.pages.site_crawl",
]
