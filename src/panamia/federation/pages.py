"""Federation pages: following people on other servers and reading what they publish, the
followers preference, an article's reactions from elsewhere, and the administrators' domain
blocks and comment removal."""

import re
from typing import Annotated

from fastapi import Path, Request

from panamia import pages
from panamia.articles import repository as article_repository
from panamia.errors import Conflict, Forbidden, Invalid, NotFound
from panamia.federation import keys, service, urls
from panamia.identity.dependencies import CurrentUser

router = pages.page_router()
ARTICLE_PAGE = re.compile(r"^/articles/([a-z0-9]+(?:-[a-z0-9]+)*)$")


async def _elsewhere(request: Request, user, *, status: int = 200, errors=None, values=None):
    resources = pages.resources_of(request)
    async with resources.reads() as session:
        key = await keys.find_key(session, user.id)
    return await pages.render(
        request, "federation.html", status=status, title="Follow people elsewhere",
        nav="federation", following=await service.following_remote(resources, user.id),
        feed=await service.feed(resources, user.id),
        approve_followers=bool(key and key.approve_followers),
        requests=await service.follow_requests(resources, user.id),
        errors=errors or {}, values=values or {}, labels={"handle": "Handle"})


@router.get("/federation")
async def elsewhere(request: Request, user: CurrentUser):
    return await _elsewhere(request, user)


@router.post("/federation/follow")
async def follow(request: Request, user: CurrentUser):
    form = await pages.read_form(request)
    handle = form.get("handle", "")
    try:
        found = await service.follow_remote(pages.resources_of(request), user, handle)
    except (Invalid, NotFound, Conflict, Forbidden) as exc:
        return await _elsewhere(request, user, status=exc.status,
                                errors={"handle": exc.detail}, values=form)
    return pages.redirect(request, "/federation",
                          notice=f"Follow request sent to {found.handle}.")


@router.post("/federation/follows/{actor_id}/stop")
async def unfollow(request: Request, actor_id: Annotated[str, Path(max_length=32)],
                   user: CurrentUser):
    await service.unfollow_remote(pages.resources_of(request), user, actor_id)
    return pages.redirect(request, "/federation", notice="You no longer follow them.")


@router.post("/federation/preferences")
async def preferences(request: Request, user: CurrentUser):
    form = await pages.read_form(request)
    approve = form.get("approve_followers") == "on"
    await service.set_approve_followers(pages.resources_of(request), user, approve)
    return pages.redirect(request, "/federation", notice=(
        "Follows from other servers now wait for your approval." if approve
        else "Follows from other servers are accepted at once."))


@router.post("/federation/followers/{follow_id}/approve")
async def approve(request: Request, follow_id: Annotated[str, Path(max_length=32)],
                  user: CurrentUser):
    await service.approve_follower(pages.resources_of(request), user, follow_id)
    return pages.redirect(request, "/federation", notice="The follower is approved.")


async def _admin_page(request: Request, *, status: int = 200, errors=None, values=None):
    return await pages.render(
        request, "federation_admin.html", status=status, title="Other servers",
        nav="federation", blocks=await service.blocked_domains(pages.resources_of(request)),
        errors=errors or {}, values=values or {}, labels={"domain": "Domain"})


@router.get("/admin/federation")
async def admin(request: Request, user: CurrentUser):
    if not user.is_admin:
        raise Forbidden("Only administrators may manage other servers.")
    return await _admin_page(request)


@router.post("/admin/federation/blocks")
async def block(request: Request, user: CurrentUser):
    form = await pages.read_form(request)
    try:
        domain = await service.block_domain(pages.resources_of(request), user,
                                            form.get("domain", ""), form.get("reason"))
    except Invalid as exc:
        return await _admin_page(request, status=422, errors={"domain": exc.detail},
                                 values=form)
    return pages.redirect(request, "/admin/federation", notice=f"{domain} is blocked.")


@router.post("/admin/federation/blocks/{domain}/unblock")
async def unblock(request: Request, domain: Annotated[str, Path(max_length=253)],
                  user: CurrentUser):
    await service.unblock_domain(pages.resources_of(request), user, domain)
    return pages.redirect(request, "/admin/federation", notice=f"{domain} is unblocked.")


@router.post("/articles/{slug}/remote-comments/{comment_id}/remove")
async def remove_comment(request: Request, slug: Annotated[str, Path(max_length=100)],
                         comment_id: Annotated[str, Path(max_length=32)], user: CurrentUser):
    await service.remove_comment(pages.resources_of(request), user, comment_id)
    return pages.redirect(request, f"/articles/{slug}", notice="The comment is removed.")


async def layout(request: Request) -> pages.LayoutPart:
    """Every page: our host, for members' handles (@screenname@host); on an article's page
    also its likes, boosts and replies from other servers."""
    resources = pages.resources_of(request)
    part = {"fediverse_host": urls.host(resources.settings)}
    match = ARTICLE_PAGE.match(request.url.path)
    if match and request.method == "GET":
        found = await article_repository.find_by_slug(resources.mongo, match[1])
        if found is not None:
            part["remote"] = await service.reactions(resources, str(found["_id"]))
    return pages.LayoutPart(part)
