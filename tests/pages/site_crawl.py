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
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from fastapi import FastAPI

from panamia import demo
from panamia import dev as dev_runner
from panamia.apps import main
from panamia.pages.errors import PageRoute
from panamia.resources import Resources
from panamia.settings import Settings
from panamia.sidecar import registry
from tests.fixtures.browser import server_env
from tests.fixtures.database import migrated_database
from tests.fixtures.http import signed_in_cookies
from tests.fixtures.resources import TEST_SECRET
from tests.fixtures.servers import free_port, wait_until_healthy

# Demo people whose pages lead everywhere: Ana has notifications, drafts and a stay to review;
# Lucía bought something on the exchange.
MEMBERS = ("ana", "lucia")
MAILED = {"token"}  # ids that only a mail carries: such a page is checked with a dead link
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

    @property
    def docs(self) -> list[str]:
        return [f"{service.url}/docs" for service in self.services]


@asynccontextmanager
async def served_site(server_urls, mongo_client) -> AsyncIterator[Site]:
    """The main app and every sidecar, served on one database with the demo community, and
    the address of every page of theirs. Stopped, and the databases dropped, afterwards."""
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
                yield Site(settings, services, members, await find_pages(services, members))
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
        for process, _, _ in processes:
            process.terminate()
        for process, _, _ in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
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
    """The pages found so far, and the ids each member's pages showed."""

    def __init__(self, services: list[Service]):
        every = [(s, path) for s in services for path, _ in _routes(s.app.routes)]
        self.fixed = {f"{s.url}{path}" for s, path in every if not PARAMETER.search(path)}
        self.shapes = [(s, _pattern(s, path)) for s, path in every if PARAMETER.search(path)]
        pages = [(s, path) for s in services for path in s.page_routes()]
        self.start = [f"{s.url}{path}" for s, path in pages if not PARAMETER.search(path)]
        self.waiting = {(s, path) for s, path in pages if PARAMETER.search(path)}
        self.pages: list[tuple[str, str]] = []

    def learn(self, address: str, ids: dict[tuple[str, str], str]) -> None:
        if address in self.fixed:  # `/listings/new` is not the listing whose id is "new"
            return
        for service, pattern in self.shapes:
            if match := pattern.fullmatch(address):
                ids.update({(service.name, name): v for name, v in match.groupdict().items()})

    def fillable(self, ids: dict[tuple[str, str], str]) -> list[str]:
        """The addresses of waiting routes whose ids are all known now."""
        filled = []
        for service, path in sorted(self.waiting, key=lambda w: (w[0].name, w[1])):
            names = PARAMETER.findall(path)
            if all((service.name, name) in ids for name in names):
                self.waiting.discard((service, path))
                filled.append(service.url + PARAMETER.sub(
                    lambda m, s=service: ids[(s.name, m.group(1))], path))
        return filled

    async def as_member(self, member: str, cookies: dict[str, str]) -> None:
        ids: dict[tuple[str, str], str] = {}
        queue = list(self.start)
        async with httpx.AsyncClient(cookies=cookies, timeout=30) as client:
            while queue:
                url = queue.pop(0)
                page = await client.get(url, headers={"Accept": "text/html"})
                for address in addresses_on(page.text, url):
                    self.learn(address, ids)
                for address in self.fillable(ids):
                    self.pages.append((address, member))
                    queue.append(address)


async def find_pages(services: list[Service],
                     members: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """`(address, member)` for each page route of every service: the member whose pages
    showed its ids (the first member for the routes without ids). Fails naming the routes
    no member's pages lead to, but for those whose ids come only by mail."""
    crawl = Crawl(services)
    first = next(iter(members))
    crawl.pages = [(url, first) for url in crawl.start]
    for member, cookies in members.items():
        await crawl.as_member(member, cookies)
    mailed = {(s, path) for s, path in crawl.waiting if set(PARAMETER.findall(path)) <= MAILED}
    crawl.pages += [(s.url + PARAMETER.sub("no-such-link", path), first) for s, path in mailed]
    unreached = sorted(f"{s.name} {path}" for s, path in crawl.waiting - mailed)
    assert not unreached, (
        f"No demo member's pages lead to these routes, so they cannot be checked: {unreached}. "
        "Link to them from a page, or give the demo community what they show.")
    return crawl.pages
