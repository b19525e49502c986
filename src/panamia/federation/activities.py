"""What each accepted activity changes here: follows of our members, likes and boosts of
our articles, replies under them, articles of the remote people our members follow, and
deletions of any of it."""

from datetime import UTC, datetime
from typing import Any

import nh3
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.articles import repository as article_repository
from panamia.articles.documents import Status
from panamia.db.postgres import new_id
from panamia.federation import delivery, keys, local, remote, urls
from panamia.federation.models import (
    RemoteActor,
    RemoteArticle,
    RemoteComment,
    RemoteInteraction,
)
from panamia.notifications import service as notifications
from panamia.notifications.schemas import ActivityObject, Create
from panamia.resources import Resources
from panamia.social.models import ACCEPTED, Follow

PENDING = "pending"
# Mastodon's allowlist for remote HTML (app/lib/sanitize_config.rb).
TAGS = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul",
        "ol", "li", "blockquote"}
ATTRIBUTES = {"a": {"href", "class"}, "span": {"class"}, "ol": {"start", "reversed"},
              "li": {"value"}}


def sanitize(html: Any) -> str:
    return nh3.clean(html if isinstance(html, str) else "", tags=TAGS, attributes=ATTRIBUTES,
                     url_schemes={"http", "https"}, link_rel="nofollow noopener noreferrer")


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _when(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)


def accept_of(settings, user_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    return {"@context": urls.CONTEXT[0], "id": urls.new_activity(settings), "type": "Accept",
            "actor": urls.actor(settings, user_id), "object": follow}


async def followed(resources: Resources, session: AsyncSession, actor: remote.Actor,
                   activity: dict[str, Any]) -> None:
    """A remote Follow of a member: accepted at once, or held until the member approves."""
    settings = resources.settings
    user_id = urls.local_user_id(settings, _id(activity.get("object")) or "")
    if user_id is None or await local.member(resources, user_id) is None:
        return
    key = await keys.ensure_key(session, user_id, settings.secret)
    state = PENDING if key.approve_followers else ACCEPTED
    statement = insert(Follow).values(
        id=new_id(), follower_actor_id=actor.id, followed_id=user_id, state=state,
        activity_id=activity["id"], accepted_at=func.now() if state == ACCEPTED else None)
    saved = await session.execute(statement.on_conflict_do_update(
        index_elements=[Follow.follower_actor_id, Follow.followed_id],
        index_where=Follow.follower_actor_id.is_not(None),
        set_={"activity_id": statement.excluded.activity_id},
    ).returning(Follow.state))
    if saved.scalar_one() == ACCEPTED:
        await delivery.enqueue(session, accept_of(settings, user_id, activity), user_id,
                               [actor.inbox])


async def undone(session: AsyncSession, actor: remote.Actor, target: Any) -> None:
    """Undo of a Follow, Like or Announce (embedded, or by id)."""
    undone_id = _id(target)
    if undone_id is None:
        return
    await session.execute(delete(Follow).where(Follow.follower_actor_id == actor.id,
                                               Follow.activity_id == undone_id))
    await session.execute(delete(RemoteInteraction).where(
        RemoteInteraction.actor_id == actor.id, RemoteInteraction.activity_id == undone_id))


async def follow_answered(session: AsyncSession, actor: remote.Actor, follow_id: str | None,
                          *, accepted: bool) -> None:
    """The remote actor's answer to a member's Follow."""
    ours = Follow.followed_actor_id == actor.id, Follow.activity_id == follow_id
    if accepted:
        await session.execute(update(Follow).where(*ours, Follow.state == PENDING)
                              .values(state=ACCEPTED, accepted_at=func.now()))
    else:
        await session.execute(delete(Follow).where(*ours))


async def published_article(resources: Resources, uri: str | None) -> dict | None:
    slug = urls.local_slug(resources.settings, uri or "")
    found = slug and await article_repository.find_by_slug(resources.mongo, slug)
    return found if found and found.get("status") == Status.PUBLISHED.value else None


async def interacted(resources: Resources, session: AsyncSession, actor: remote.Actor,
                     kind: str, activity_id: str, object_id: str | None) -> None:
    article = await published_article(resources, object_id)
    if article is None:
        return
    await session.execute(insert(RemoteInteraction).values(
        id=new_id(), actor_id=actor.id, article_id=str(article["_id"]), type=kind,
        activity_id=activity_id,
    ).on_conflict_do_nothing())


def _authored_by(note: dict[str, Any], actor: remote.Actor) -> bool:
    authors = note.get("attributedTo")
    authors = authors if isinstance(authors, list) else [authors]
    return actor.uri in [_id(a) for a in authors] and \
        urls.domain_of(_id(note) or "") == actor.domain


async def created(resources: Resources, session: AsyncSession, actor: remote.Actor,
                  note: dict[str, Any]) -> None:
    """A reply to one of our articles becomes a comment under it (its writers notified); an
    article of someone our members follow joins their list. Update does the same again."""
    if not _authored_by(note, actor):
        return
    article = await published_article(resources, _id(note.get("inReplyTo")))
    if article is not None:
        await _comment(resources, session, actor, note, article)
    elif note.get("type") in ("Article", "Note", "Page") and await _followed(session, actor):
        columns = {"name": str(note.get("name") or note.get("summary") or "")[:300]
                   or "(untitled)",
                   "summary": sanitize(note.get("summary")) or None,
                   "content_html": sanitize(note.get("content")), "url": _id(note.get("url")),
                   "published": _when(note.get("published")),
                   "updated": _when(note["updated"]) if note.get("updated") else None}
        statement = insert(RemoteArticle).values(id=new_id(), uri=note["id"],
                                                 actor_id=actor.id, **columns)
        await session.execute(statement.on_conflict_do_update(
            index_elements=[RemoteArticle.uri], set_=columns,
            where=RemoteArticle.actor_id == actor.id))


async def _followed(session: AsyncSession, actor: remote.Actor) -> bool:
    return (await session.execute(select(Follow.id).where(
        Follow.followed_actor_id == actor.id, Follow.state == ACCEPTED).limit(1))).first() \
        is not None


async def _comment(resources: Resources, session: AsyncSession, actor: remote.Actor,
                   note: dict[str, Any], article: dict[str, Any]) -> None:
    content = sanitize(note.get("content"))
    statement = insert(RemoteComment).values(
        id=new_id(), uri=note["id"], actor_id=actor.id, article_id=str(article["_id"]),
        content_html=content, url=_id(note.get("url")), published=_when(note.get("published")))
    saved = await session.execute(statement.on_conflict_do_update(
        index_elements=[RemoteComment.uri], set_={"content_html": content},
        where=RemoteComment.actor_id == actor.id,
    ).returning(RemoteComment.id, RemoteComment.created_at == func.now()))
    row = saved.first()
    # created_at is the transaction's now() only for a row inserted here; an edit of a
    # comment the writers already heard of is not news.
    if row is None or not row[1]:
        return
    for writer in {article["authorId"], *article.get("coAuthorIds", [])}:
        await notifications.notify(session, Create(target_id=writer, object=ActivityObject(
            type="Note", id=row[0], url=f"/articles/{article['slug']}#comments",
            name=f"{actor.name or actor.handle} replied to “{article['title']}”"[:300])))


async def actor_updated(session: AsyncSession, document: dict[str, Any]) -> None:
    try:
        await remote.save_actor(session, remote.parse_actor(document))
    except (remote.RemoteError, KeyError):
        pass


async def deleted(session: AsyncSession, actor: remote.Actor, object_id: str | None) -> None:
    """The actor deleted itself (everything of theirs goes, by cascade) or one object."""
    if object_id == actor.uri:
        await session.execute(delete(RemoteActor).where(RemoteActor.id == actor.id))
        return
    for model in (RemoteComment, RemoteArticle):
        await session.execute(delete(model).where(model.uri == object_id,
                                                  model.actor_id == actor.id))


def followers_inboxes(user_id: str):
    """The inboxes of a member's remote followers, a shared inbox once."""
    inbox = func.coalesce(RemoteActor.shared_inbox, RemoteActor.inbox)
    return (select(inbox).distinct()
            .join(Follow, Follow.follower_actor_id == RemoteActor.id)
            .where(Follow.followed_id == user_id, Follow.state == ACCEPTED,
                   RemoteActor.gone_at.is_(None)))
