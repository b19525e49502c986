"""A sidecar declares itself once, as a `Sidecar` named in the `panamia.sidecars` entry-point
group; everything that must know the sidecars reads the declarations from `discover()`.

`panamia serve <name>` and `panamia dev` build its app with `create_app`, `panamia db` puts
its models' tables in the schema, the services create its MongoDB indexes, `panamia demo`
seeds it, `panamia <name> …` runs its commands. A sidecar in its own installable package
declares, in its pyproject.toml:

    [project.entry-points."panamia.sidecars"]
    lending = "lending.sidecar:SIDECAR"
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import typer
from fastapi import APIRouter, FastAPI
from markupsafe import Markup
from pymongo import IndexModel

from panamia import pages
from panamia.articles import documents as article_documents
from panamia.db.mongo import MongoDatabase
from panamia.identity.account import BlockerQuery
from panamia.notifications import documents as notification_documents
from panamia.photos import documents as photo_documents
from panamia.profiles import documents as profile_documents
from panamia.resources import Resources
from panamia.settings import Settings, get_settings
from panamia.sidecar import pages as sidecar_pages
from panamia.web import create_service

GROUP = "panamia.sidecars"
# Each content domain's `documents.py` declares its MongoDB indexes as `INDEXES`.
CONTENT_INDEXES = (profile_documents.INDEXES, article_documents.INDEXES,
                   notification_documents.INDEXES, photo_documents.INDEXES)


ProfileSection = Callable[[Resources, str], Awaitable[str | None]]


@dataclass(frozen=True)
class Sidecar:
    """What the platform needs to know of a sidecar. `models` are the modules whose classes
    extend `panamia.db.postgres.Base` (their tables join the migrations' metadata); `demo` is
    a module with `async def seed(resources)`, run after the demo people exist, and optionally
    `async def reset(resources)`, run before they are deleted."""

    name: str
    title: str
    default_port: int
    routers: Sequence[APIRouter] = ()
    # Included before `routers`: a page route answers only a browser (see sidecar/pages.py).
    page_routers: Sequence[APIRouter] = ()
    models: Sequence[ModuleType] = ()
    mongo_indexes: Mapping[str, Sequence[IndexModel]] = field(default_factory=dict)
    demo: ModuleType | None = None
    cli: typer.Typer | None = None
    background: Sequence[Callable[[Resources], asyncio.Future]] = ()
    # Where its templates are, when they are not in panamia's own (`pages/templates/<name>/`).
    templates: Path | None = None
    # Its public base URL when a setting of its own holds it (pets: PETS_URL); otherwise
    # `<NAME>_URL`, by default localhost on its port.
    public_url: Callable[[Settings], str] | None = None
    docs: str = ""  # the page describing it, for the documentation index
    # One SELECT of (ref_type, ref_id, currency, amount): what each escrow account should hold
    # now; `panamia ledger check` compares the ledger's escrow balances with it.
    held_funds: str = ""
    # One SELECT of (what, path) for :user_id: what of this sidecar keeps the member's account
    # from being deleted (its triggers refuse), in the member's words, and the path of its
    # page showing it; the account pages list them (`identity.account.BlockerQuery`).
    deletion_blockers: str = ""
    # What the member's public profile page on the main app shows of them here: an async
    # function of (resources, user id) giving a rendered HTML fragment, or None for nothing.
    profile_section: ProfileSection | None = None

    @property
    def menu_label(self) -> str:
        """Its name in the site's menu: its title without the site's ("Pet sitting")."""
        return self.title.removeprefix("Pana MIA ").capitalize()

    def url(self, settings: Settings) -> str:
        if self.public_url:
            return self.public_url(settings)
        return settings.public_url(self.name, f"http://localhost:{self.default_port}")

    def __call__(self) -> FastAPI:
        """The app factory `panamia serve` gives uvicorn by the entry point's own name, so
        that every worker builds it from the settings of the environment."""
        return create_app(self)


class SidecarError(RuntimeError):
    """A declaration that cannot be used; the message names the entry point."""


def discover() -> list[Sidecar]:
    """Every installed sidecar, by name. Loading a declaration imports its package."""
    found: dict[str, Sidecar] = {}
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        sidecar = point.load()
        if not isinstance(sidecar, Sidecar) or sidecar.name != point.name:
            raise SidecarError(f"entry point {point.name} = {point.value} in {GROUP} must "
                               f"name a Sidecar whose name is {point.name!r}")
        if point.name in found and found[point.name] is not sidecar:
            raise SidecarError(f"two sidecars are named {point.name!r} in {GROUP}")
        found[point.name] = sidecar
    return list(found.values())


def find(name: str) -> Sidecar:
    for sidecar in discover():
        if sidecar.name == name:
            return sidecar
    raise SidecarError(f"no sidecar named {name!r} is installed")


def docs_index() -> str:
    """The installed sidecars as the list in README.md's documentation index."""
    return "".join(
        f"* [{s.docs}]({s.docs}): {s.title} (`panamia serve {s.name}`, port {s.default_port}).\n"
        for s in discover() if s.docs
    )


def held_funds() -> dict[str, str]:
    """Each sidecar's `held_funds` SELECT, by name: what `panamia ledger check` expects the
    escrow accounts to hold."""
    return {s.name: s.held_funds for s in discover() if s.held_funds}


def deletion_blockers(settings: Settings) -> list[BlockerQuery]:
    """Each sidecar's `deletion_blockers` SELECT, with the address its paths are under."""
    return [BlockerQuery(s.url(settings), s.deletion_blockers)
            for s in discover() if s.deletion_blockers]


def profile_sections() -> Callable[[Resources, str], Awaitable[list[Markup]]]:
    """What the main app's profile page calls (`app.state.profile_sections`, set by the app
    factory): every sidecar's section for a user id, in the sidecars' order, empty ones left
    out."""
    sections = [s.profile_section for s in discover() if s.profile_section]

    async def rendered(resources: Resources, user_id: str) -> list[Markup]:
        fragments = [await section(resources, user_id) for section in sections]
        return [Markup(fragment) for fragment in fragments if fragment]

    return rendered


def declared_indexes() -> dict[str, list[IndexModel]]:
    """Every MongoDB index: the content domains' and each sidecar's."""
    declared = [*CONTENT_INDEXES, *(s.mongo_indexes for s in discover())]
    indexes: dict[str, list[IndexModel]] = {}
    for collections in declared:
        for collection, models in collections.items():
            indexes.setdefault(collection, []).extend(models)
    return indexes


async def ensure_indexes(db: MongoDatabase) -> None:
    """`create_index` on an existing identical index changes nothing, so start-up, tests,
    the demo data and the versioned MongoDB steps can all call this."""
    for collection, models in declared_indexes().items():
        await db[collection].create_indexes(models)


@dataclass(frozen=True)
class MenuLink:
    name: str
    label: str
    url: str


def add_menu(app: FastAPI, settings: Settings) -> None:
    """Have the header of every page of `app` link to each installed sidecar."""
    links = [MenuLink(s.name, s.menu_label, s.url(settings)) for s in discover()]

    async def sidecar_links(request) -> pages.LayoutPart:
        return pages.LayoutPart({"sidecars": links})

    pages.add_to_layout(app, sidecar_links)


def entry_point_value(name: str) -> str:
    """`module:attribute` of the declaration, as uvicorn imports an app factory."""
    return next(p.value for p in entry_points(group=GROUP) if p.name == name)


def create_app(
    sidecar: Sidecar, settings: Settings | None = None, resources: Resources | None = None
) -> FastAPI:
    """The sidecar's service on the main app's users and sessions. Tests pass `resources`
    bound to their own databases."""
    settings = settings or get_settings()
    app = create_service(
        settings, title=sidecar.title, process_name=sidecar.name,
        routers=[*sidecar.page_routers, *sidecar.routers], ensure_indexes=ensure_indexes,
        resources=resources, background=sidecar.background,
    )
    app.state.sidecar = sidecar
    if sidecar.templates:
        sidecar_pages.add_templates(sidecar.templates)
    pages.install(app)
    add_menu(app, settings)
    return app
