"""People on other servers: found by handle (WebFinger), fetched with signed GETs, cached
in `remote_actors`, refused when their domain is blocked."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Forbidden, Invalid, NotFound
from panamia.federation import fetch, keys, signatures, urls
from panamia.federation.models import INSTANCE, DomainBlock, RemoteActor
from panamia.resources import Resources

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTOR_TYPES = {"Person", "Organization", "Application", "Group", "Service"}
HANDLE = re.compile(r"^@?([A-Za-z0-9_.-]+)@([A-Za-z0-9.-]+(?::[0-9]+)?)$")


class RemoteError(Exception):
    """A remote document is missing, malformed or not allowed."""


class ActorGone(RemoteError):
    """The remote server answered 410: the actor was deleted."""


@dataclass(frozen=True)
class Actor:
    id: str
    uri: str
    inbox: str
    shared_inbox: str | None
    public_key_id: str
    public_key_pem: str
    preferred_username: str
    domain: str
    name: str | None
    icon: str | None
    url: str | None

    @property
    def handle(self) -> str:
        return f"@{self.preferred_username}@{self.domain}"


ACTOR_COLUMNS = (RemoteActor.id, RemoteActor.uri, RemoteActor.inbox, RemoteActor.shared_inbox,
                 RemoteActor.public_key_id, RemoteActor.public_key_pem,
                 RemoteActor.preferred_username, RemoteActor.domain, RemoteActor.name,
                 RemoteActor.icon, RemoteActor.url)


def blocked_condition(domain: str):
    """Whether `domain` (host[:port]) or a parent domain of its host is blocked."""
    host = domain.split(":")[0]
    labels = host.split(".")
    candidates = {domain, host, *(".".join(labels[i:]) for i in range(1, len(labels) - 1))}
    return select(literal(1)).where(DomainBlock.domain.in_(candidates)).exists()


async def is_blocked(session: AsyncSession, domain: str) -> bool:
    return (await session.execute(select(blocked_condition(domain.lower())))).scalar_one()


async def instance_signer(resources: Resources) -> fetch.Signer:
    """Signs GETs as the instance actor (servers with authorized fetch demand it)."""
    secret = resources.settings.secret
    async with resources.db.begin() as session:
        key = await keys.ensure_key(session, INSTANCE, secret)
    key_id = urls.key_id(urls.instance(resources.settings))

    def sign(method: str, url: str, body: bytes | None) -> dict[str, str]:
        return signatures.sign_request(method, url, key_id, key.private_key(secret), body,
                                       accept=ACCEPT)

    return sign


async def fetch_document(resources: Resources, url: str) -> dict[str, Any]:
    """A remote ActivityPub document, fetched signed; its id must be the URL fetched."""
    domain = urls.domain_of(url)
    async with resources.reads() as session:
        if await is_blocked(session, domain):
            raise Forbidden(f"{domain} is blocked here.", error="domain blocked")
    try:
        answer = await fetch.send(resources.settings, "GET", url,
                                  signer=await instance_signer(resources))
    except (fetch.FetchRefused, fetch.FetchFailed) as exc:
        raise RemoteError(str(exc)) from exc
    if answer.status == 410:
        raise ActorGone(f"{url} is gone")
    if answer.status != 200:
        raise RemoteError(f"{url} answered {answer.status}")
    try:
        document = json.loads(answer.body)
    except ValueError as exc:
        raise RemoteError(f"{url} did not answer JSON") from exc
    if not isinstance(document, dict) or document.get("id") != url.partition("#")[0]:
        raise RemoteError(f"{url} answered a document with another id")
    return document


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _icon(document: dict[str, Any]) -> str | None:
    icon = document.get("icon")
    if isinstance(icon, list) and icon:
        icon = icon[0]
    return _text(icon.get("url")) if isinstance(icon, dict) else _text(icon)


def parse_actor(document: dict[str, Any], key_id: str | None = None) -> dict[str, Any]:
    """The columns of `remote_actors` from an actor document (with the key `key_id`, if it
    lists several); RemoteError if it lacks what we need (an inbox, an RSA key it owns, on
    its own host)."""
    uri = document["id"]
    key = document.get("publicKey")
    if isinstance(key, list):
        keys = [k for k in key if isinstance(k, dict)]
        key = next((k for k in keys if k.get("id") == key_id), keys[0] if keys else None)
    inbox = _text(document.get("inbox"))
    if (document.get("type") not in ACTOR_TYPES or not inbox or not isinstance(key, dict)
            or key.get("owner") != uri or not _text(key.get("publicKeyPem"))
            or not _text(key.get("id"))):
        raise RemoteError(f"{uri} is not an actor with an inbox and a key")
    domain = urls.domain_of(uri)
    if urls.domain_of(inbox) != domain or urls.domain_of(key["id"]) != domain:
        raise RemoteError(f"{uri} names an inbox or key on another host")
    try:
        signatures.load_public_key(key["publicKeyPem"])
    except (signatures.SignatureError, ValueError) as exc:
        raise RemoteError(f"{uri} has an unusable key") from exc
    endpoints = document.get("endpoints")
    shared = _text(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    return {
        "uri": uri, "type": document["type"], "inbox": inbox,
        "shared_inbox": shared if shared and urls.domain_of(shared) == domain else None,
        "public_key_id": key["id"], "public_key_pem": key["publicKeyPem"],
        "preferred_username": _text(document.get("preferredUsername")) or uri.rsplit("/")[-1],
        "domain": domain, "name": _text(document.get("name")), "icon": _icon(document),
        "url": _text(document.get("url")),
    }


async def save_actor(session: AsyncSession, columns: dict[str, Any]) -> Actor:
    statement = insert(RemoteActor).values(**columns)
    saved = await session.execute(statement.on_conflict_do_update(
        index_elements=[RemoteActor.uri],
        set_={**{k: statement.excluded[k] for k in columns if k != "uri"},
              "fetched_at": func.now(), "gone_at": None},
    ).returning(*ACTOR_COLUMNS))
    return Actor(*saved.one())


async def cached(session: AsyncSession, *, uri: str | None = None,
                 key_id: str | None = None) -> Actor | None:
    condition = RemoteActor.uri == uri if uri else RemoteActor.public_key_id == key_id
    row = (await session.execute(
        select(*ACTOR_COLUMNS).where(condition, RemoteActor.gone_at.is_(None))
    )).first()
    return Actor(*row) if row else None


async def refresh(resources: Resources, uri: str) -> Actor:
    try:
        document = await fetch_document(resources, uri)
    except ActorGone:
        async with resources.db.begin() as session:
            await session.execute(update(RemoteActor).where(RemoteActor.uri == uri)
                                  .values(gone_at=datetime.now(UTC)))
        raise
    columns = parse_actor(document)
    async with resources.db.begin() as session:
        return await save_actor(session, columns)


async def actor(resources: Resources, uri: str) -> Actor:
    """The actor at `uri`, from the cache or fetched."""
    async with resources.reads() as session:
        found = await cached(session, uri=uri)
    return found or await refresh(resources, uri)


async def actor_for_key(resources: Resources, key_id: str, *, fresh: bool = False) -> Actor:
    """The actor owning `key_id`: cached, or its document fetched (the key id without its
    fragment; a standalone Key document names its owner, which must list it)."""
    if not fresh:
        async with resources.reads() as session:
            found = await cached(session, key_id=key_id)
        if found:
            return found
    document = await fetch_document(resources, key_id.partition("#")[0])
    if document.get("type") not in ACTOR_TYPES and isinstance(document.get("owner"), str):
        document = await fetch_document(resources, document["owner"])
    columns = parse_actor(document, key_id)
    if columns["public_key_id"] != key_id:
        raise RemoteError(f"{document['id']} does not list the key {key_id}")
    async with resources.db.begin() as session:
        return await save_actor(session, columns)


async def webfinger(resources: Resources, handle: str) -> Actor:
    """`@name@host` (a port allowed) to its actor, through the host's WebFinger."""
    match = HANDLE.match(handle.strip())
    if not match:
        raise Invalid("Write the handle as @name@example.social.", fields=["handle"])
    name, host = match[1], match[2].lower()
    settings = resources.settings
    private = settings.federation_allow_private_networks and not settings.is_production
    scheme = "http" if private else "https"
    url = (f"{scheme}://{host}/.well-known/webfinger?resource="
           + quote(f"acct:{name}@{host}", safe=":@"))
    async with resources.reads() as session:
        if await is_blocked(session, host):
            raise Forbidden(f"{host} is blocked here.", error="domain blocked")
    try:
        answer = await fetch.send(resources.settings, "GET", url,
                                  headers={"accept": "application/jrd+json"})
        links = json.loads(answer.body).get("links", []) if answer.status == 200 else []
    except (fetch.FetchRefused, fetch.FetchFailed, ValueError, AttributeError):
        links = []
    href = next((link.get("href") for link in links if isinstance(link, dict)
                 and link.get("rel") == "self"
                 and link.get("type", "").startswith(("application/activity+json",
                                                      "application/ld+json"))), None)
    if not isinstance(href, str):
        raise NotFound(f"No one called {handle.strip()} was found: check the spelling, and "
                       "that their server is up.", error="handle not found")
    try:
        return await actor(resources, href)
    except RemoteError as exc:
        raise NotFound(f"{handle.strip()} could not be loaded from their server; try again "
                       "later.", error="handle not found") from exc
