"""What the fediverse fetches and posts: WebFinger, host-meta, NodeInfo, actors, outboxes,
collections and inboxes. The members' and administrators' own JSON API is in api.py."""

import json
from importlib.metadata import version
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from panamia.articles import repository as article_repository
from panamia.articles.documents import Status
from panamia.errors import NotFound, Problem
from panamia.federation import inbox, local, signatures, urls
from panamia.identity import csrf
from panamia.identity.models import User
from panamia.resources import Resources, ResourcesDep
from panamia.social.models import ACCEPTED, Follow

router = APIRouter(tags=["federation"], include_in_schema=True)
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PAGE_SIZE = 20


class ActivityJSON(Response):
    media_type = urls.ACTIVITY_JSON


class JRD(Response):
    media_type = "application/jrd+json"


class XRD(Response):
    media_type = "application/xrd+xml"


def activity_json(document: dict[str, Any], status: int = 200) -> Response:
    return ActivityJSON(json.dumps(document), status_code=status, headers={"Vary": "Accept"})


def documented(media_type: str, not_found: str | None = None) -> dict[int, dict]:
    """`responses=` of a route answering `media_type`, and the error envelope as JSON."""
    answers = {200: {"content": {media_type: {"schema": {"type": "object"}}}}}
    if not_found:
        answers[404] = {"description": not_found,
                        "content": {"application/json": {"schema": Problem.model_json_schema()}}}
    return answers


ACTOR_ROUTE = {"response_class": ActivityJSON, "responses": documented(
    urls.ACTIVITY_JSON, "No such member, or not on the fediverse (no screenname, or an "
    "unlisted profile)") | {410: {"description": "The account was deleted: a Tombstone",
                                 "content": {urls.ACTIVITY_JSON: {"schema": {"type": "object"}}}}}}


def gone(error: local.Gone) -> Response:
    return activity_json(error.tombstone, status=410)


@router.get("/.well-known/webfinger", summary="WebFinger: a member's handle to their actor",
            response_class=JRD,
            responses=documented("application/jrd+json", "No such member here"))
async def webfinger(resources: ResourcesDep,
                    resource: Annotated[str, Query(max_length=300)]) -> Response:
    settings = resources.settings
    name, _, host = resource.removeprefix("acct:").lstrip("@").rpartition("@")
    if not resource.startswith("acct:") or host.lower() != urls.host(settings) or not name:
        raise NotFound("No such account here.", error="account not found")
    found = await local.member_by_screenname(resources, name)
    if found is None:
        raise NotFound("No such account here.", error="account not found")
    actor = urls.actor(settings, found.person.id)
    return JRD(json.dumps({
        "subject": f"acct:{found.person.screenname}@{urls.host(settings)}",
        "aliases": [actor, urls.person_page(settings, found.person.screenname)],
        "links": [
            {"rel": "self", "type": urls.ACTIVITY_JSON, "href": actor},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
             "href": urls.person_page(settings, found.person.screenname)},
        ],
    }), headers={"Access-Control-Allow-Origin": "*"})


@router.get("/.well-known/host-meta", summary="host-meta: where WebFinger is",
            response_class=XRD)
async def host_meta(resources: ResourcesDep) -> Response:
    template = f"{resources.settings.auth_url}/.well-known/webfinger?resource={{uri}}"
    return XRD(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">'
        f'<Link rel="lrdd" template="{template}"/></XRD>')


@router.get("/.well-known/nodeinfo", summary="NodeInfo discovery")
async def nodeinfo_links(resources: ResourcesDep) -> dict:
    settings = resources.settings
    return {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                       "href": f"{settings.auth_url}/nodeinfo/2.1"},
                      # FEP-2677: where the instance actor is
                      {"rel": "https://www.w3.org/ns/activitystreams#Application",
                       "href": urls.instance(settings)}]}


@router.get("/nodeinfo/2.1", summary="NodeInfo 2.1: software, protocols, usage")
async def nodeinfo(resources: ResourcesDep) -> Response:
    async with resources.reads() as session:
        users = (await session.execute(
            select(func.count()).where(User.screenname.is_not(None)))).scalar_one()
    document = {
        "version": "2.1",
        "software": {"name": "panamia", "version": version("panamia"),
                     "homepage": resources.settings.auth_url},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {"users": {"total": users}},
        "metadata": {"nodeName": "Pana MIA"},
    }
    return Response(json.dumps(document), media_type=(
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'))


@router.get(urls.INSTANCE_PATH, summary="The server's own actor (signs our fetches)",
            response_class=ActivityJSON, responses=documented(urls.ACTIVITY_JSON))
async def instance_actor(resources: ResourcesDep) -> Response:
    return activity_json(await local.instance_actor(resources))


async def _actor_or_404(resources: Resources, user_id: str) -> dict[str, Any]:
    try:
        return await local.actor(resources, user_id)
    except LookupError:
        raise NotFound("No such actor.", error="actor not found") from None


@router.get("/ap/users/{user_id}", summary="A member as an ActivityPub actor", **ACTOR_ROUTE)
async def actor(resources: ResourcesDep, user_id: UserId) -> Response:
    try:
        return activity_json(await _actor_or_404(resources, user_id))
    except local.Gone as error:
        return gone(error)


def collection(uri: str, total: int, first: str | None = None) -> dict[str, Any]:
    document = {"@context": urls.CONTEXT[0], "id": uri, "type": "OrderedCollection",
                "totalItems": total}
    if first:
        document["first"] = first
    return document


def _published_by(user_id: str) -> dict[str, Any]:
    return {"status": Status.PUBLISHED.value,
            "$or": [{"authorId": user_id}, {"coAuthorIds": user_id}]}


@router.get("/ap/users/{user_id}/outbox", summary="A member's published articles", **ACTOR_ROUTE)
async def outbox(resources: ResourcesDep, user_id: UserId) -> Response:
    try:
        document = await _actor_or_404(resources, user_id)
    except local.Gone as error:
        return gone(error)
    query = _published_by(user_id)
    total = await resources.mongo[article_repository.COLLECTION].count_documents(query)
    return activity_json(collection(document["outbox"], total, f"{document['outbox']}/page/1"))


@router.get("/ap/users/{user_id}/outbox/page/{page}", summary="One page of an outbox", **ACTOR_ROUTE)
async def outbox_page(resources: ResourcesDep, user_id: UserId,
                      page: Annotated[int, Path(ge=1, le=10_000)]) -> Response:
    try:
        document = await _actor_or_404(resources, user_id)
    except local.Gone as error:
        return gone(error)
    settings = resources.settings
    cursor = resources.mongo[article_repository.COLLECTION].find(
        _published_by(user_id)
    ).sort([("publishedAt", -1), ("_id", -1)]).skip((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    articles = [a async for a in cursor]
    items = [{"id": f"{urls.article(settings, a['slug'])}#create", "type": "Create",
              "actor": document["id"], "published": local.iso(a["publishedAt"]),
              "to": [urls.AS_PUBLIC], "object": local.article_object(settings, a)}
             for a in articles[:PAGE_SIZE]]
    uri = f"{document['outbox']}/page/{page}"
    answer = {"@context": urls.CONTEXT[0], "id": uri, "type": "OrderedCollectionPage",
              "partOf": document["outbox"], "orderedItems": items}
    if len(articles) > PAGE_SIZE:
        answer["next"] = f"{document['outbox']}/page/{page + 1}"
    return activity_json(answer)


async def _counted(resources: Resources, user_id: str, key: str, column) -> Response:
    """The member's followers or following collection: only how many."""
    try:
        document = await _actor_or_404(resources, user_id)
    except local.Gone as error:
        return gone(error)
    async with resources.reads() as session:
        total = (await session.execute(select(func.count()).where(
            column == user_id, Follow.state == ACCEPTED))).scalar_one()
    return activity_json(collection(document[key], total))


@router.get("/ap/users/{user_id}/followers", summary="How many follow a member", **ACTOR_ROUTE)
async def followers(resources: ResourcesDep, user_id: UserId) -> Response:
    return await _counted(resources, user_id, "followers", Follow.followed_id)


@router.get("/ap/users/{user_id}/following", summary="How many a member follows", **ACTOR_ROUTE)
async def following(resources: ResourcesDep, user_id: UserId) -> Response:
    return await _counted(resources, user_id, "following", Follow.follower_id)


async def _read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > inbox.MAX_BYTES:
        raise inbox.Refused(413, "the activity is larger than 1 MB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > inbox.MAX_BYTES:
            raise inbox.Refused(413, "the activity is larger than 1 MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(request: Request, resources: Resources) -> Response:
    try:
        body = await _read_capped(request)
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        target = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
        signed = signatures.SignedRequest(
            method=request.method, url=str(request.url), target=target,
            headers={k.lower(): v for k, v in request.headers.items()}, body=body)
        await inbox.receive(resources, signed)
    except inbox.Refused as refusal:
        return JSONResponse({"error": "refused", "detail": refusal.detail},
                            status_code=refusal.status)
    return Response(status_code=202)


INBOX_RESPONSES = {202: {"description": "Accepted (or a replay, ignored)"},
                   401: {"description": "Not signed, or the signature does not hold"},
                   403: {"description": "The sender's domain is blocked"},
                   413: {"description": "Larger than 1 MB"}}


@router.post("/ap/inbox", status_code=202, summary="The shared inbox",
             responses=INBOX_RESPONSES)
@csrf.authorized_by_its_url  # authorized by its HTTP Signature, never by cookies
async def shared_inbox(request: Request, resources: ResourcesDep) -> Response:
    return await _receive(request, resources)


@router.post("/ap/users/{user_id}/inbox", status_code=202, summary="A member's inbox",
             responses=INBOX_RESPONSES)
@csrf.authorized_by_its_url  # authorized by its HTTP Signature, never by cookies
async def personal_inbox(request: Request, resources: ResourcesDep, user_id: UserId) -> Response:
    return await _receive(request, resources)

