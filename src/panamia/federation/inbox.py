"""What arrives in our inboxes: the signature checked against the sender's key, the key's
owner required to be the activity's actor, replays ignored, then each activity applied."""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.federation import activities, remote, signatures, urls
from panamia.federation.models import ReceivedActivity
from panamia.resources import Resources

MAX_BYTES = 1024 * 1024


class Refused(Exception):
    """Answered with `status` and `detail`; nothing was applied."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Received:
    activity: dict[str, Any]
    actor: remote.Actor


async def _sender(resources: Resources, request: signatures.SignedRequest,
                  signature: signatures.Signature) -> remote.Actor:
    """The actor whose key made `signature`; its key refetched once if it fails (rotated)."""
    for fresh in (False, True):
        try:
            sender = await remote.actor_for_key(resources, signature.key_id, fresh=fresh)
        except remote.RemoteError as exc:
            raise Refused(401, f"the signing key could not be loaded: {exc}") from None
        try:
            signatures.verify(request, signature, sender.public_key_pem)
            return sender
        except signatures.SignatureError as exc:
            failure = exc
    raise Refused(401, str(failure))


async def _unknown_deleting_itself(resources: Resources, activity: dict[str, Any]) -> bool:
    """A Delete of an actor we never knew: accepted without fetching anything (servers send
    these by the thousand when an account goes)."""
    actor = _id(activity.get("actor"))
    if activity.get("type") != "Delete" or not actor or _id(activity.get("object")) != actor:
        return False
    async with resources.reads() as session:
        return await remote.cached(session, uri=actor) is None


async def receive(resources: Resources, request: signatures.SignedRequest) -> bool:
    """Check and apply one delivery; False if it was ignored (a replay, an unknown actor's
    self-deletion). Refused says why it was not accepted."""
    try:
        signature = signatures.read_signature(request)
    except signatures.SignatureError as exc:
        raise Refused(401, str(exc)) from None
    async with resources.reads() as session:
        if await remote.is_blocked(session, urls.domain_of(signature.key_id)):
            raise Refused(403, "deliveries from this domain are refused")
    try:
        activity = json.loads(request.body)
    except ValueError:
        activity = None
    if not isinstance(activity, dict):
        raise Refused(400, "the body is not a JSON object")
    if await _unknown_deleting_itself(resources, activity):
        return False
    sender = await _sender(resources, request, signature)
    if _id(activity.get("actor")) != sender.uri:
        raise Refused(401, "the key's owner is not the activity's actor")
    activity_id = _id(activity)
    if not activity_id or urls.domain_of(activity_id) != sender.domain:
        raise Refused(400, "the activity needs an id on its actor's host")
    async with resources.db.begin() as session:
        if not await _first_time(session, activity_id, sender.uri, str(activity.get("type"))):
            return False
        await apply(resources, session, Received(activity, sender))
    return True


async def _first_time(session: AsyncSession, activity_id: str, actor: str, kind: str) -> bool:
    inserted = await session.execute(
        insert(ReceivedActivity).values(id=activity_id, actor_uri=actor, type=kind[:40])
        .on_conflict_do_nothing(index_elements=[ReceivedActivity.id])
        .returning(ReceivedActivity.id)
    )
    return inserted.first() is not None


async def apply(resources: Resources, session: AsyncSession, received: Received) -> None:
    activity, actor = received.activity, received.actor
    kind = activity.get("type")
    target = activity.get("object")
    if kind == "Follow":
        await activities.followed(resources, session, actor, activity)
    elif kind == "Undo":
        await activities.undone(session, actor, target)
    elif kind in ("Accept", "Reject"):
        await activities.follow_answered(session, actor, _id(target), accepted=kind == "Accept")
    elif kind in ("Like", "Announce"):
        await activities.interacted(resources, session, actor, kind, _id(activity), _id(target))
    elif kind in ("Create", "Update") and isinstance(target, dict):
        if kind == "Update" and _id(target) == actor.uri:
            await activities.actor_updated(session, target)
        else:
            await activities.created(resources, session, actor, target)
    elif kind == "Delete":
        await activities.deleted(session, actor, _id(target))
