"""One id per request: taken from `X-Request-ID` when it is safe (nginx sets `$request_id`),
made otherwise, echoed in the answer, written on every log line the request causes and on
every outbox event it enqueues, so one id follows a request from the proxy to the relay."""

import re
import secrets
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

HEADER = b"x-request-id"
# Short and plain: an id is copied into logs and headers, so nothing that could forge a log
# line, split a header or grow without bound is taken from a client.
SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request being served, or None outside one (the relay, a command)."""
    return _current.get()


def accepted(given: bytes | None) -> str:
    """The client's id when it is safe, else a new one."""
    if given is not None:
        text = given.decode("latin-1")
        if SAFE_ID.fullmatch(text):
            return text
    return secrets.token_hex(16)


class RequestIds:
    """Pure ASGI: the id is set in the request's own context, so the handler, its logs and
    uvicorn's access line (written from inside `send`) all see it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((value for name, value in scope["headers"] if name == HEADER), None)
        request_id = accepted(given)
        echoed = (HEADER, request_id.encode("latin-1"))

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        token = _current.set(request_id)
        await self.app(scope, receive, send_with_id)
        # Only after a normal return: an exception leaves the id set in the request's task,
        # so that the server's line with the traceback, logged in that task, names it too.
        _current.reset(token)
