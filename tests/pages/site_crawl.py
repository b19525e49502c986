"""Every page of every service, for the checks that must see them all (accessibility and
plain language).

The services run as `panamia dev` runs them, each in its own process on 127.0.0.1 (cookies
ignore the port, so one sign-in serves them all), on a migrated database with the demo
community. The pages are found from the apps' own routes: every GET route of a page router.
A route with ids in its path gets them from the links and forms of the pages a demo member
sees; so a page added tomorrow is checked without anyone listing it here.
"""

import asyncio
import re
import shutil
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from panamia import dev as dev_runner
from panamia.pages.errors import PageRoute
from panamia.resources import Resources
from panamia.settings import Settings
from tests.fixtures.browser import server_env
from tests.fixtures.database import migrated_database
from tests.fixtures.http import signed_in_cookies
from tests.fixtures.resources import TEST_SECRET
from tests.fixtures.served import stop
from tests.fixtures.servers import free_port, wait_until_healthy

# Demo people whose pages lead everywhere: Ana has notifications, drafts and a stay to review;
# Lucía bought something on the exchange; Devon sits pets (his listing's own pages).
MEMBERS = ("ana", "lucia", "devon")
MAILED = {"token"}  # ids that only a mail carries: such a page is checked with a dead link
VISITS_PER_ROUTE = 8  # a member's crawl opens at most this many listings, articles, people...
PARAMETER = re.compile(r"\{(\w+)(?::path)?\}")


@dataclass(frozen=True)
class Service:
    name: str
    url: str
    app: FastAPI

    def page_routes(self) -> list[str]:
        """The paths of its GET routes that answer pages (those of `pages.page_router()`)."""
        return [path for path, route in _routes(self.app.routes)
                if isinstance(route, PageRoute) and "GET" in route.methods]


def _routes(routes: Iterable, prefix: str = "") -> Iterable[tuple[str, object]]:
    for route in routes:
        if hasattr(route, "original_router"):  # an included router keeps its own routes
            yield from _routes(route.original_router.routes,
                               prefix + route.include_context.prefix)
        elif hasattr(route, "methods"):
            yield prefix + route.path, route


@dataclass
class Site:
    settings: Settings
    services: list[Service]
    members: dict[str, dict[str, str]]  # each demo member's session and CSRF cookies
    pages: list[tuple[str, str]] = field(default_factory=list)  # (address, member)
    unreached: list[str] = field(default_factory=list)  # routes no page leads to

    @property
    def docs(self) -> list[str]:
        return [f"{service.url}/docs" for service in self.services]


@pytest.fixture(scope="session")
async def site(server_urls, mongo_client) -> AsyncIterator[Site]:
    """The main app and every sidecar, served on one database with the demo community, and
    the address of every page of theirs. Stopped, and the databases dropped, afterwards.
    Shared by the checks of every page (a plugin in tests/conftest.py): starting four
    services is the slow part."""
    # Imported here: a plugin's imports run for every test, and these load every domain.
    from panamia import demo
    from panamia.apps import main
    from panamia.sidecar import registry

    async with migrated_database("panamia_site") as postgres_url:
        sidecars = registry.discover()
        urls = {name: f"http://127.0.0.1:{free_port()}" for name in
                ["main", *(s.name for s in sidecars)]}
        settings = Settings(
            panamia_env="test", postgres_url=postgres_url, mongodb_url=server_urls[1],
            mongodb_db=f"site_{uuid.uuid4().hex[:10]}", auth_secret=TEST_SECRET,
            auth_url=urls["main"], pets_url=urls["pets"],
            public_urls={s.name: urls[s.name] for s in sidecars}, _env_file=None,
        )
        resources = Resources.open(settings, "tests")
        try:
            await demo.seed(resources)
            members = {name: (await signed_in_cookies(resources, demo.user_id(name)))[0]
                       for name in MEMBERS}
        finally:
            await resources.close()
        services = [Service("main", urls["main"], main.create_app(settings))] + [
            Service(s.name, urls[s.name], registry.create_app(s, settings)) for s in sidecars]
        try:
            async with _serving(settings, urls):
                yield Site(settings, services, members, *await find_pages(services, members))
        finally:
            await mongo_client.drop_database(settings.mongodb_db)


@asynccontextmanager
async def _serving(settings: Settings, urls: dict[str, str]) -> AsyncIterator[None]:
    scratch = Path(tempfile.mkdtemp(prefix="panamia-site-"))
    env = server_env(settings, scratch) | {f"{name.upper()}_URL": url
                                           for name, url in urls.items() if name != "main"}
    processes = []
    try:
        for name, url in urls.items():
            port, log = urlsplit(url).port, scratch / f"{name}.log"
            with log.open("wb") as sink:
                processes.append((subprocess.Popen(
                    dev_runner.service_command(name, "127.0.0.1", port), env=env, cwd=scratch,
                    stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                ), port, log))
        # Slow on a busy machine: four services import and start at once.
        await asyncio.gather(*(asyncio.to_thread(wait_until_healthy, *p, timeout=180)
                               for p in processes))
        yield
    finally:
        try:
            stop(processes)  # and no log may hold a traceback: a page that failed
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class Addresses(HTMLParser):
    """Where a page's links and forms lead."""

    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        target = dict(attrs).get({"a": "href", "form": "action"}.get(tag, ""))
        if target:
            self.targets.append(target)


def addresses_on(html: str, base: str) -> list[str]:
    parser = Addresses()
    parser.feed(html)
    return [urljoin(base, target).split("#")[0].split("?")[0] for target in parser.targets]


def _pattern(service: Service, path: str) -> re.Pattern:
    parts = PARAMETER.split(path)  # text, name, text, name, ...: even indexes are text
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                    for i, part in enumerate(parts))
    return re.compile(re.escape(service.url) + regex)


class Crawl:
    """The pages found so far, and the routes still waiting for an address."""

    def __init__(self, services: list[Service]):
        every = [(s, path) for s in services for path, _ in _routes(s.app.routes)]
        self.fixed = {f"{s.url}{path}" for s, path in every if not PARAMETER.search(path)}
        self.shapes = [(s, _pattern(s, path)) for s, path in every if PARAMETER.search(path)]
        pages = [(s, path) for s in services for path in s.page_routes()]
        self.start = [f"{s.url}{path}" for s, path in pages if not PARAMETER.search(path)]
        self.page_shapes = {(s, path): _pattern(s, path) for s, path in pages
                            if PARAMETER.search(path)}
        self.waiting = set(self.page_shapes)
        self.pages: list[tuple[str, str]] = []

    def learn(self, address: str, ids: dict[tuple[str, str], str]) -> None:
        """Keep the ids in `address`, a link or a form's action of any route."""
        if address in self.fixed:  # `/listings/new` is not the listing whose id is "new"
            return
        for service, pattern in self.shapes:
            if match := pattern.fullmatch(address):
                ids.update({(service.name, name): v for name, v in match.groupdict().items()})

    def page_route(self, address: str) -> tuple[Service, str] | None:
        if address not in self.fixed:
            return next((key for key, pattern in self.page_shapes.items()
                         if pattern.fullmatch(address)), None)
        return None

    def filled(self, ids: dict[tuple[str, str], str]) -> list[str]:
        """Addresses for the waiting routes whose ids are all known now (a listing's edit
        page from the listing's id)."""
        addresses = []
        for service, path in sorted(self.waiting, key=lambda w: (w[0].name, w[1])):
            if all((service.name, name) in ids for name in PARAMETER.findall(path)):
                addresses.append(service.url + PARAMETER.sub(
                    lambda m, s=service: ids[(s.name, m.group(1))], path))
        return addresses

    async def as_member(self, member: str, cookies: dict[str, str]) -> None:
        """Follow `member`'s links to pages, at most a few of each route (a sitter sees his
        own listing's links, which others do not)."""
        ids: dict[tuple[str, str], str] = {}
        queue, seen, visits = list(self.start), set(self.start), Counter()
        async with httpx.AsyncClient(cookies=cookies, timeout=30) as client:
            while queue:
                url = queue.pop(0)
                page = await client.get(url, headers={"Accept": "text/html"})
                for address in [*addresses_on(page.text, url), *self.filled(ids)]:
                    self.learn(address, ids)
                    route = self.page_route(address)
                    if not route or address in seen or visits[route] >= VISITS_PER_ROUTE:
                        continue
                    seen.add(address)
                    visits[route] += 1
                    queue.append(address)
                    if route in self.waiting:
                        self.waiting.discard(route)
                        self.pages.append((address, member))


async def find_pages(services: list[Service], members: dict[str, dict[str, str]]
                     ) -> tuple[list[tuple[str, str]], list[str]]:
    """`(address, member)` for each page route of every service: the member whose pages
    showed its ids (the first member for the routes without ids); and the routes no
    member's pages lead to, but for those whose ids come only by mail."""
    crawl = Crawl(services)
    first = next(iter(members))
    crawl.pages = [(url, first) for url in crawl.start]
    for member, cookies in members.items():
        await crawl.as_member(member, cookies)
    mailed = {(s, path) for s, path in crawl.waiting if set(PARAMETER.findall(path)) <= MAILED}
    crawl.pages += [(s.url + PARAMETER.sub("no-such-link", path), first) for s, path in mailed]
    return crawl.pages, sorted(f"{s.name} {path}" for s, path in crawl.waiting - mailed)
