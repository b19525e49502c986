"""Our members and articles as the fediverse sees them: actor documents (Person, or
Organization for a business profile) and Article objects."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from panamia.articles import repository as article_repository
from panamia.articles.documents import Status
from panamia.federation import keys, urls
from panamia.federation.models import INSTANCE, Tombstone
from panamia.identity import people
from panamia.identity.people import Person
from panamia.pages.markdown import render_markdown
from panamia.profiles import repository as profile_repository
from panamia.resources import Resources
from panamia.settings import Settings


class Gone(Exception):
    """The object existed and was deleted: answered 410 with a Tombstone."""

    def __init__(self, uri: str, former_type: str, deleted: datetime | None):
        super().__init__(uri)
        self.tombstone = {
            "@context": urls.CONTEXT[0], "id": uri, "type": "Tombstone",
            "formerType": former_type,
            **({"deleted": iso(deleted)} if deleted else {}),
        }


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Member:
    """A member who is an actor: a screenname and a listed (active) profile."""

    person: Person
    profile: dict[str, Any]


async def member(resources: Resources, user_id: str) -> Member | None:
    person = (await people.people_by_id(resources, [user_id])).get(user_id)
    if person is None or not person.screenname:
        return None
    profile = await profile_repository.find_active(resources.mongo, user_id)
    return Member(person, profile) if profile else None


async def member_by_screenname(resources: Resources, screenname: str) -> Member | None:
    person = await people.person_by_screenname(resources, screenname)
    return await member(resources, person.id) if person else None


def is_business(profile: dict[str, Any]) -> bool:
    """A profile with opening hours, or one that says so in `extra`, is a business."""
    hours = profile.get("hours") or {}
    return bool((profile.get("extra") or {}).get("business")) or any(hours.values())


def actor_document(settings: Settings, found: Member, public_key_pem: str) -> dict[str, Any]:
    uri = urls.actor(settings, found.person.id)
    profile = found.profile
    images = profile.get("images") or []
    document = {
        "@context": urls.CONTEXT,
        "id": uri,
        "type": "Organization" if is_business(profile) else "Person",
        "preferredUsername": found.person.screenname,
        "name": profile.get("name") or found.person.name or found.person.screenname,
        "summary": str(render_markdown(profile.get("bio") or "")),
        "url": urls.person_page(settings, found.person.screenname),
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "following": f"{uri}/following",
        "endpoints": {"sharedInbox": urls.shared_inbox(settings)},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "publicKey": {"id": urls.key_id(uri), "owner": uri, "publicKeyPem": public_key_pem},
    }
    if images:
        document["icon"] = {"type": "Image", "url": images[0]["url"]}
    return document


async def actor(resources: Resources, user_id: str) -> dict[str, Any]:
    """The member's actor document; Gone after the account was deleted; LookupError when
    they are not an actor (no screenname, or an unlisted profile)."""
    uri = urls.actor(resources.settings, user_id)
    found = await member(resources, user_id)
    async with resources.db.begin() as session:
        if found is None:
            key = await keys.find_key(session, user_id)
            if key is not None and key.gone_at is not None:
                raise Gone(uri, "Person", key.gone_at)
            raise LookupError(user_id)
        key = await keys.ensure_key(session, user_id, resources.settings.secret)
    document = actor_document(resources.settings, found, key.public_key_pem)
    document["manuallyApprovesFollowers"] = key.approve_followers
    return document


async def instance_actor(resources: Resources) -> dict[str, Any]:
    """The server's own actor, which signs our fetches; fetchable unsigned."""
    settings = resources.settings
    uri = urls.instance(settings)
    async with resources.db.begin() as session:
        key = await keys.ensure_key(session, INSTANCE, settings.secret)
    return {
        "@context": urls.CONTEXT, "id": uri, "type": "Application",
        "preferredUsername": urls.host(settings), "name": "Pana MIA",
        "inbox": urls.shared_inbox(settings), "outbox": f"{uri}/outbox",
        "url": settings.auth_url,
        "publicKey": {"id": urls.key_id(uri), "owner": uri, "publicKeyPem": key.public_key_pem},
    }


def article_object(settings: Settings, article: dict[str, Any]) -> dict[str, Any]:
    uri = urls.article(settings, article["slug"])
    authors = [article["authorId"], *article.get("coAuthorIds", [])]
    published = article.get("publishedAt") or article["createdAt"]
    document = {
        "id": uri, "type": "Article", "name": article["title"],
        "summary": article.get("excerpt") or None,
        "content": str(render_markdown(article.get("body") or "")),
        "mediaType": "text/html",
        "url": uri,
        "attributedTo": [urls.actor(settings, a) for a in authors],
        "published": iso(published),
        "to": [urls.AS_PUBLIC],
        "cc": [f"{urls.actor(settings, article['authorId'])}/followers"],
    }
    if article.get("updatedAt") and article["updatedAt"] > published:
        document["updated"] = iso(article["updatedAt"])
    return {k: v for k, v in document.items() if v is not None}


async def article(resources: Resources, slug: str) -> dict[str, Any]:
    """A published article as an Article object; Gone once removed or unpublished after
    being federated; LookupError when there is no such public article."""
    settings = resources.settings
    found = await article_repository.find_by_slug(resources.mongo, slug)
    if found is not None and found.get("status") == Status.PUBLISHED.value:
        return {"@context": urls.CONTEXT[0], **article_object(settings, found)}
    uri = urls.article(settings, slug)
    async with resources.reads() as session:
        tombstone = (await session.execute(
            select(Tombstone.former_type, Tombstone.deleted_at).where(Tombstone.uri == uri)
        )).first()
    if tombstone:
        raise Gone(uri, tombstone.former_type, tombstone.deleted_at)
    raise LookupError(slug)
