"""Request bodies over `MAX_BODY_BYTES` are refused with 413 before they are read.

A body that declares its length is refused before the app runs at all, so nothing it asks
for happens. A body without one (chunked) is counted as the app reads it: the chunk that
passes the limit raises `BodyTooLarge`, and the rest is never read.

FastAPI's own `max_body_size` runs an endpoint that does not read its body and then swaps
its answer for a plain-text 413, after the endpoint has done its work: hence this one.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panamia.errors import DomainError


class BodyTooLarge(DomainError):
    status = 413
    error = "content too large"

    def __init__(self, max_bytes: int):
        super().__init__(f"The request body is over {max_bytes} bytes (MAX_BODY_BYTES), the "
                         "most this service reads; send less.")


@dataclass(frozen=True)
class Allowance:
    """Bodies sent to paths under `prefix` may be up to `max_bytes`; a larger one is refused
    with what `refusal` makes (photo uploads: "This photo is larger than 8 MB")."""

    prefix: str
    max_bytes: int
    refusal: Callable[[], DomainError]


def declared_length(scope: Scope) -> int | None:
    try:
        return int(Headers(scope=scope)["content-length"])
    except (KeyError, ValueError):
        return None


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, allowances: Sequence[Allowance] = ()):
        self.app = app
        self.max_bytes = max_bytes
        self.allowances = allowances

    def limit(self, path: str) -> tuple[int, Callable[[], DomainError]]:
        for allowance in self.allowances:
            if path.startswith(allowance.prefix):
                return allowance.max_bytes, allowance.refusal
        return self.max_bytes, lambda: BodyTooLarge(self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes, refuse = self.limit(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > max_bytes:
            refusal = refuse()
            response = JSONResponse(refusal.body(), status_code=refusal.status,
                                    headers={"Connection": "close"})
            return await response(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise refuse()
            return message

        await self.app(scope, counted, send)
