"""Content negotiation on the pages people share: an article's page asked for with
`Accept: application/activity+json` (or `application/ld+json`, whatever its profile) answers
the Article itself, with the page's URL as its id; a person's page answers 303 to their
actor. Browsers get the page. Both say `Vary: Accept`."""

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panamia.federation import local, urls
from panamia.federation.routes import activity_json, gone

ARTICLE = re.compile(r"^/articles/([a-z0-9]+(?:-[a-z0-9]+)*)$")
PERSON = re.compile(r"^/people/([^/]{1,64})$")


def wants_activity(accept: str) -> bool:
    media_types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(t in ("application/activity+json", "application/ld+json") for t in media_types)


class Negotiation:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not (
                ARTICLE.match(path) or PERSON.match(path)):
            return await self.app(scope, receive, send)
        if wants_activity(Headers(scope=scope).get("accept", "")):
            response = await self.answer(scope, path)
            return await response(scope, receive, send)

        async def varied(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Vary", "Accept")
            await send(message)

        await self.app(scope, receive, varied)

    async def answer(self, scope: Scope, path: str):
        resources = scope["app"].state.resources
        if article := ARTICLE.match(path):
            try:
                return activity_json(await local.article(resources, article[1]))
            except local.Gone as error:
                return gone(error)
            except LookupError:
                pass
        elif person := PERSON.match(path):
            found = await local.member_by_screenname(resources, person[1])
            if found is not None:
                return RedirectResponse(urls.actor(resources.settings, found.person.id), 303,
                                        headers={"Vary": "Accept"})
        return JSONResponse({"error": "not found", "detail": "No such object."},
                            status_code=404, headers={"Vary": "Accept"})
