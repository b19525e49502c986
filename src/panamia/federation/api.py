"""The members' and administrators' federation API: following people on other servers,
what arrives from them, the followers preference, an article's remote reactions, domain
blocks and comment removal."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Response

from panamia.articles import service as article_service
from panamia.errors import Conflict, Forbidden, Invalid, NotFound, responses
from panamia.federation import service
from panamia.federation.schemas import (
    DomainBlockCreate,
    DomainBlockView,
    FeedEntry,
    FollowRemote,
    FollowRequestView,
    Preferences,
    RemoteFollowView,
    RemoteReactions,
)
from panamia.identity import csrf
from panamia.identity.dependencies import SIGNED_IN, CurrentUser, OptionalUser
from panamia.resources import ResourcesDep

router = APIRouter(prefix="/api/federation", tags=["federation"])
articles_router = APIRouter(prefix="/api/articles", tags=["federation"])
ADMIN = SIGNED_IN | responses((Forbidden, "Only administrators"))
Id = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("/follows", status_code=201, response_model=RemoteFollowView,
             summary="Follow someone on another server",
             responses=SIGNED_IN | csrf.CHECKED | responses(
                 (Invalid, "Not a handle"), (NotFound, "No one by that handle"),
                 (Conflict, "Followed already"), (Forbidden, "Their server is blocked here")))
async def follow(body: FollowRemote, user: CurrentUser,
                 resources: ResourcesDep) -> RemoteFollowView:
    """Looks the handle up (WebFinger), then sends them a Follow; `state` is `pending` until
    their server accepts it."""
    return RemoteFollowView(**asdict(await service.follow_remote(resources, user, body.handle)))


@router.get("/follows", response_model=list[RemoteFollowView], responses=SIGNED_IN,
            summary="The people on other servers you follow")
async def following(user: CurrentUser, resources: ResourcesDep) -> list[RemoteFollowView]:
    return [RemoteFollowView(**asdict(f)) for f in
            await service.following_remote(resources, user.id)]


@router.delete("/follows/{actor_id}", status_code=204, response_class=Response,
               summary="Stop following someone on another server",
               responses=SIGNED_IN | csrf.CHECKED | responses((NotFound, "Not followed")))
async def unfollow(actor_id: Id, user: CurrentUser, resources: ResourcesDep) -> Response:
    """Their server is sent an Undo of the Follow."""
    await service.unfollow_remote(resources, user, actor_id)
    return Response(status_code=204)


@router.get("/feed", response_model=list[FeedEntry], responses=SIGNED_IN,
            summary="Articles from the people you follow elsewhere, newest first")
async def feed(user: CurrentUser, resources: ResourcesDep) -> list[FeedEntry]:
    return await service.feed(resources, user.id)


@router.put("/preferences", response_model=Preferences, responses=SIGNED_IN | csrf.CHECKED,
            summary="Whether follows from other servers wait for your approval")
async def preferences(body: Preferences, user: CurrentUser,
                      resources: ResourcesDep) -> Preferences:
    return Preferences(approve_followers=await service.set_approve_followers(
        resources, user, body.approve_followers))


@router.get("/followers/requests", response_model=list[FollowRequestView],
            responses=SIGNED_IN, summary="Followers from other servers waiting for approval")
async def follow_requests(user: CurrentUser, resources: ResourcesDep) -> list[FollowRequestView]:
    return [FollowRequestView(**asdict(r)) for r in
            await service.follow_requests(resources, user.id)]


@router.post("/followers/{follow_id}/approve", status_code=204, response_class=Response,
             summary="Accept a follower from another server who waits for approval",
             responses=SIGNED_IN | csrf.CHECKED | responses((NotFound, "No such request")))
async def approve(follow_id: Id, user: CurrentUser, resources: ResourcesDep) -> Response:
    await service.approve_follower(resources, user, follow_id)
    return Response(status_code=204)


@router.get("/blocks", response_model=list[DomainBlockView], responses=ADMIN,
            summary="Blocked domains (administrators)")
async def blocks(user: CurrentUser, resources: ResourcesDep) -> list[DomainBlockView]:
    if not user.is_admin:
        raise Forbidden("Only administrators may see the blocked domains.")
    return [DomainBlockView(**block) for block in await service.blocked_domains(resources)]


@router.post("/blocks", status_code=201, response_model=DomainBlockView,
             summary="Block a domain and its subdomains (administrators)",
             responses=ADMIN | csrf.CHECKED | responses((Invalid, "Not a domain")))
async def block(body: DomainBlockCreate, user: CurrentUser,
                resources: ResourcesDep) -> DomainBlockView:
    """Deliveries from it are refused (403) and its followers removed."""
    domain = await service.block_domain(resources, user, body.domain, body.reason)
    found = [b for b in await service.blocked_domains(resources) if b["domain"] == domain]
    return DomainBlockView(**found[0])


@router.delete("/blocks/{domain}", status_code=204, response_class=Response,
               summary="Unblock a domain (administrators)",
               responses=ADMIN | csrf.CHECKED | responses((NotFound, "Not blocked")))
async def unblock(domain: Annotated[str, Path(max_length=253)], user: CurrentUser,
                  resources: ResourcesDep) -> Response:
    await service.unblock_domain(resources, user, domain)
    return Response(status_code=204)


@router.delete("/comments/{comment_id}", status_code=204, response_class=Response,
               summary="Remove a comment from another server (administrators)",
               responses=ADMIN | csrf.CHECKED | responses((NotFound, "No such comment")))
async def remove_comment(comment_id: Id, user: CurrentUser, resources: ResourcesDep) -> Response:
    await service.remove_comment(resources, user, comment_id)
    return Response(status_code=204)


@articles_router.get("/{slug}/remote", response_model=RemoteReactions,
                     responses=responses((NotFound, "No such article")),
                     summary="Likes, boosts and replies an article had from other servers")
async def reactions(slug: Annotated[str, Path(max_length=100)], user: OptionalUser,
                    resources: ResourcesDep) -> RemoteReactions:
    article = await article_service.visible(resources, user, slug)
    found = await service.reactions(resources, article.id)
    return RemoteReactions(likes=found.likes, boosts=found.boosts, comments=found.comments)
