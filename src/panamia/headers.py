"""Security headers on every answer of every service.

Pages get a Content-Security-Policy that runs only this origin's scripts and styles, loads no
image from another host (a remote image would tell that host who reads the page), and keeps
the page out of frames. The API docs page loads Swagger UI from this origin's /static and starts
it with an inline script built from the app's own configuration, never from a request: its
policy allows exactly those inline scripts, by hash, and no other host.
"""

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders

from panamia.settings import Settings

HSTS = "max-age=31536000"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(settings: Settings) -> str:
    # Forms post across the services too: the pets pages sign out on the main app.
    form_targets = " ".join(sorted({_origin(settings.auth_url), _origin(settings.pets_url)}))
    return "; ".join([
        "default-src 'self'", "object-src 'none'", "base-uri 'none'",
        f"form-action 'self' {form_targets}", "frame-ancestors 'none'",
    ])


def docs_policy(body: bytes) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(body)
    )
    return "; ".join([
        "default-src 'none'", f"script-src 'self' {hashes}".rstrip(),
        # Swagger UI styles its widgets inline; scripts stay without it.
        "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    def __init__(self, app, *, settings: Settings, docs_paths: frozenset[str]):
        self.app = app
        self.page_policy = page_policy(settings)
        self.hsts = settings.secure_cookies
        self.docs_paths = docs_paths

    def _add(self, message: dict, policy: str) -> None:
        headers = MutableHeaders(scope=message)
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if self.hsts:
            headers.setdefault("Strict-Transport-Security", HSTS)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].removeprefix(scope.get("root_path", "")) in self.docs_paths:
            return await self._docs_page(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                self._add(message, self.page_policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope, receive, send):
        """Holds the page until its body is whole: the policy names its inline scripts."""
        start, chunks = {}, []

        async def send_when_whole(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                body = b"".join(chunks)
                self._add(start, docs_policy(body))
                await send(start)
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_when_whole)


def install(app: FastAPI, settings: Settings, *, docs_paths: Iterable[str]) -> None:
    app.add_middleware(SecurityHeaders, settings=settings, docs_paths=frozenset(docs_paths))
