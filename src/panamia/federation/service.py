"""Federation use cases a person starts: articles going out when published, edited or
withdrawn, an account's deletion announced, following someone on another server, the
member's followers preference, and the administrators' domain blocks and comment removal."""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.articles import service as article_service
from panamia.db.postgres import new_id
from panamia.errors import Conflict, Forbidden, Invalid, NotFound
from panamia.federation import activities, delivery, keys, local, remote, urls
from panamia.federation.models import (
    ActorKey,
    DomainBlock,
    RemoteActor,
    RemoteArticle,
    RemoteComment,
    RemoteInteraction,
    Tombstone,
)
from panamia.federation.schemas import FeedEntry
from panamia.identity import account
from panamia.identity.dependencies import Principal
from panamia.resources import Resources
from panamia.settings import Settings
from panamia.social.models import ACCEPTED, Follow

PUBLISHED, EDITED, WITHDRAWN = "published", "edited", "withdrawn"
DOMAIN = r"^[a-z0-9.-]+(:[0-9]+)?$"


async def article_changed(session: AsyncSession, settings: Settings, article: dict[str, Any],
                          change: str) -> None:
    """Create, Update or Delete (with a Tombstone) of `article`, to its author's followers,
    in the caller's transaction."""
    author = article["authorId"]
    actor = urls.actor(settings, author)
    uri = urls.article(settings, article["slug"])
    inboxes = list((await session.execute(activities.followers_inboxes(author))).scalars())
    if change == WITHDRAWN:
        await session.execute(insert(Tombstone).values(uri=uri, former_type="Article")
                              .on_conflict_do_nothing())
        target: Any = {"id": uri, "type": "Tombstone", "formerType": "Article"}
        kind = "Delete"
    else:
        await session.execute(delete(Tombstone).where(Tombstone.uri == uri))
        target = local.article_object(settings, article)
        kind = "Create" if change == PUBLISHED else "Update"
    if not inboxes:
        return
    await keys.ensure_key(session, author, settings.secret)
    activity = {"@context": urls.CONTEXT[0], "id": urls.new_activity(settings), "type": kind,
                "actor": actor, "object": target, "to": [urls.AS_PUBLIC],
                "cc": [f"{actor}/followers"]}
    await delivery.enqueue(session, activity, author, inboxes)


async def account_deleted(session: AsyncSession, settings: Settings, user_id: str) -> None:
    """Before the user row goes: Delete of the actor to its followers, and the actor marked
    gone (its URL answers 410). Called in the deletion's transaction."""
    key = await keys.find_key(session, user_id)
    if key is None:
        return  # never federated
    inboxes = list((await session.execute(activities.followers_inboxes(user_id))).scalars())
    actor = urls.actor(settings, user_id)
    await session.execute(update(ActorKey).where(ActorKey.actor_id == user_id)
                          .values(gone_at=func.now()))
    await delivery.enqueue(session, {
        "@context": urls.CONTEXT[0], "id": f"{actor}#delete", "type": "Delete",
        "actor": actor, "object": actor, "to": [urls.AS_PUBLIC],
    }, user_id, inboxes)


@dataclass(frozen=True)
class RemoteFollow:
    id: str  # the remote actor's
    handle: str
    name: str | None
    uri: str
    url: str | None
    state: str


async def follow_remote(resources: Resources, user: Principal, handle: str) -> RemoteFollow:
    """Follow someone on another server: our Follow goes to their inbox; the follow counts
    once their Accept arrives."""
    found = await remote.webfinger(resources, handle)
    settings = resources.settings
    follow_id = urls.new_activity(settings)
    async with resources.db.begin() as session:
        await keys.ensure_key(session, user.id, settings.secret)
        statement = insert(Follow).values(id=new_id(), follower_id=user.id,
                                          followed_actor_id=found.id, state=activities.PENDING,
                                          activity_id=follow_id)
        saved = (await session.execute(statement.on_conflict_do_nothing(
            index_elements=[Follow.follower_id, Follow.followed_actor_id],
            index_where=Follow.followed_actor_id.is_not(None),
        ).returning(Follow.state))).first()
        if saved is None:
            raise Conflict(f"You already follow {found.handle}.", error="already following")
        await delivery.enqueue(session, {
            "@context": urls.CONTEXT[0], "id": follow_id, "type": "Follow",
            "actor": urls.actor(settings, user.id), "object": found.uri,
        }, user.id, [found.inbox])
    return RemoteFollow(found.id, found.handle, found.name, found.uri, found.url,
                        activities.PENDING)


async def unfollow_remote(resources: Resources, user: Principal, actor_id: str) -> None:
    settings = resources.settings
    async with resources.db.begin() as session:
        row = (await session.execute(
            delete(Follow).where(Follow.follower_id == user.id,
                                 Follow.followed_actor_id == actor_id)
            .returning(Follow.activity_id)
        )).first()
        if row is None:
            raise NotFound("You do not follow this person.", error="not following")
        found = (await session.execute(select(RemoteActor.uri, RemoteActor.inbox)
                                       .where(RemoteActor.id == actor_id))).one()
        await keys.ensure_key(session, user.id, settings.secret)
        actor = urls.actor(settings, user.id)
        await delivery.enqueue(session, {
            "@context": urls.CONTEXT[0], "id": urls.new_activity(settings), "type": "Undo",
            "actor": actor,
            "object": {"id": row.activity_id, "type": "Follow", "actor": actor,
                       "object": found.uri},
        }, user.id, [found.inbox])


async def following_remote(resources: Resources, user_id: str) -> list[RemoteFollow]:
    async with resources.reads() as session:
        rows = (await session.execute(
            select(RemoteActor.preferred_username, RemoteActor.domain, RemoteActor.name,
                   RemoteActor.uri, RemoteActor.url, Follow.state, RemoteActor.id)
            .join(Follow, Follow.followed_actor_id == RemoteActor.id)
            .where(Follow.follower_id == user_id).order_by(Follow.created_at.desc())
        )).all()
    return [RemoteFollow(r.id, f"@{r.preferred_username}@{r.domain}", r.name, r.uri, r.url,
                         r.state) for r in rows]


async def feed(resources: Resources, user_id: str, limit: int = 50) -> list[FeedEntry]:
    """Articles from the remote people `user_id` follows, newest first."""
    async with resources.reads() as session:
        rows = (await session.execute(
            select(RemoteArticle.name, RemoteArticle.summary, RemoteArticle.content_html,
                   func.coalesce(RemoteArticle.url, RemoteArticle.uri).label("url"),
                   RemoteArticle.published,
                   func.coalesce(RemoteActor.name, RemoteActor.preferred_username)
                   .label("author"))
            .join(RemoteActor, RemoteActor.id == RemoteArticle.actor_id)
            .join(Follow, Follow.followed_actor_id == RemoteActor.id)
            .where(Follow.follower_id == user_id, Follow.state == ACCEPTED)
            .order_by(RemoteArticle.published.desc()).limit(limit)
        )).all()
    return [FeedEntry.model_validate(row._mapping) for row in rows]


async def set_approve_followers(resources: Resources, user: Principal, approve: bool) -> bool:
    async with resources.db.begin() as session:
        await keys.ensure_key(session, user.id, resources.settings.secret)
        await session.execute(update(ActorKey).where(ActorKey.actor_id == user.id)
                              .values(approve_followers=approve))
    return approve


@dataclass(frozen=True)
class FollowRequest:
    id: str
    handle: str
    name: str | None
    url: str | None


async def follow_requests(resources: Resources, user_id: str) -> list[FollowRequest]:
    """Remote follows of `user_id` waiting for approval, oldest first."""
    async with resources.reads() as session:
        rows = (await session.execute(
            select(Follow.id, RemoteActor.preferred_username, RemoteActor.domain,
                   RemoteActor.name, RemoteActor.url)
            .join(RemoteActor, RemoteActor.id == Follow.follower_actor_id)
            .where(Follow.followed_id == user_id, Follow.state == activities.PENDING)
            .order_by(Follow.created_at).limit(200)
        )).all()
    return [FollowRequest(r.id, f"@{r.preferred_username}@{r.domain}", r.name, r.url)
            for r in rows]


async def approve_follower(resources: Resources, user: Principal, follow_id: str) -> None:
    """Accept a remote follower held for approval."""
    settings = resources.settings
    async with resources.db.begin() as session:
        row = (await session.execute(
            update(Follow).where(Follow.id == follow_id, Follow.followed_id == user.id,
                                 Follow.state == activities.PENDING)
            .values(state=ACCEPTED, accepted_at=func.now())
            .returning(Follow.activity_id, Follow.follower_actor_id)
        )).first()
        if row is None or row.follower_actor_id is None:
            raise NotFound("No follow request is waiting with this id.",
                           error="follow request not found")
        follower = (await session.execute(select(RemoteActor.uri, RemoteActor.inbox)
                                          .where(RemoteActor.id == row.follower_actor_id))).one()
        follow = {"id": row.activity_id, "type": "Follow", "actor": follower.uri,
                  "object": urls.actor(settings, user.id)}
        await delivery.enqueue(session, activities.accept_of(settings, user.id, follow),
                               user.id, [follower.inbox])


@dataclass(frozen=True)
class Reactions:
    likes: int
    boosts: int
    comments: list[dict[str, Any]]


async def reactions(resources: Resources, article_id: str) -> Reactions:
    """Remote likes and boosts of an article, and the remote replies under it."""
    async with resources.reads() as session:
        counts = dict((await session.execute(
            select(RemoteInteraction.type, func.count())
            .where(RemoteInteraction.article_id == article_id).group_by(RemoteInteraction.type)
        )).all())
        rows = (await session.execute(
            select(RemoteComment.id, RemoteComment.content_html, RemoteComment.url,
                   RemoteComment.published, RemoteActor.name, RemoteActor.preferred_username,
                   RemoteActor.domain, RemoteActor.url.label("actor_url"))
            .join(RemoteActor, RemoteActor.id == RemoteComment.actor_id)
            .where(RemoteComment.article_id == article_id)
            .order_by(RemoteComment.published).limit(200)
        )).all()
    comments = [{"id": r.id, "contentHtml": r.content_html, "url": r.url,
                 "published": r.published, "authorName": r.name or r.preferred_username,
                 "authorHandle": f"@{r.preferred_username}@{r.domain}",
                 "authorUrl": r.actor_url} for r in rows]
    return Reactions(counts.get("Like", 0), counts.get("Announce", 0), comments)


def _admin(user: Principal) -> None:
    if not user.is_admin:
        raise Forbidden("Only administrators may do this.")


def normalized_domain(domain: str) -> str:
    cleaned = domain.strip().lower().removeprefix("https://").removeprefix("http://")
    cleaned = cleaned.strip("/").removeprefix("*.").removeprefix(".")
    if not re.fullmatch(DOMAIN, cleaned) or "." not in cleaned and ":" not in cleaned:
        raise Invalid("Write a domain such as example.social.", fields=["domain"])
    return cleaned


async def block_domain(resources: Resources, user: Principal, domain: str,
                       reason: str | None) -> str:
    """Refuse the domain and its subdomains from now on; their followers go."""
    _admin(user)
    blocked = normalized_domain(domain)
    host = blocked.split(":")[0]
    async with resources.db.begin() as session:
        await session.execute(insert(DomainBlock).values(
            domain=blocked, reason=(reason or "").strip()[:500] or None, blocked_by=user.id,
        ).on_conflict_do_nothing())
        actor_host = func.split_part(RemoteActor.domain, ":", 1)
        on_domain = (RemoteActor.domain == blocked if ":" in blocked
                     else (actor_host == host) | actor_host.like(f"%.{host}"))
        actors = select(RemoteActor.id).where(on_domain).scalar_subquery()
        await session.execute(delete(Follow).where(Follow.follower_actor_id.in_(actors)))
    return blocked


async def unblock_domain(resources: Resources, user: Principal, domain: str) -> None:
    _admin(user)
    async with resources.db.begin() as session:
        gone = (await session.execute(delete(DomainBlock).where(
            DomainBlock.domain == domain.strip().lower()).returning(DomainBlock.domain))).first()
    if gone is None:
        raise NotFound(f"{domain} is not blocked.", error="not blocked")


async def blocked_domains(resources: Resources) -> list[dict[str, Any]]:
    async with resources.reads() as session:
        rows = (await session.execute(
            select(DomainBlock.domain, DomainBlock.reason, DomainBlock.created_at)
            .order_by(DomainBlock.domain))).all()
    return [{"domain": r.domain, "reason": r.reason, "createdAt": r.created_at} for r in rows]


async def remove_comment(resources: Resources, user: Principal, comment_id: str) -> None:
    _admin(user)
    async with resources.db.begin() as session:
        gone = (await session.execute(delete(RemoteComment).where(
            RemoteComment.id == comment_id).returning(RemoteComment.id))).first()
    if gone is None:
        raise NotFound("No such comment; it may be removed already.", error="comment not found")


def connect() -> None:
    """Hear of article changes and account deletions (once, however often called)."""
    for hooks, hook in ((article_service.CHANGE_HOOKS, article_changed),
                        (account.DELETION_HOOKS, account_deleted)):
        if hook not in hooks:
            hooks.append(hook)
