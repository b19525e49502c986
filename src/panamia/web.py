"""What every service's app shares: resources, error envelope, CSRF, health, cookie refresh,
and what every page's layout shows (who is signed in, the unread badge)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy import text

from panamia import headers, metrics, pages
from panamia.bodies import BodyLimit
from panamia.db.mongo import MongoDatabase
from panamia.errors import install_error_handlers
from panamia.identity.csrf import verify_csrf
from panamia.identity.pages import signed_in_layout
from panamia.logs import install_redaction
from panamia.notifications.pages import unread_badge
from panamia.outbox import service as outbox_service
from panamia.photos import routes as photo_routes
from panamia.pages.rendering import STATIC_DIR
from panamia.requestids import RequestIds
from panamia.resources import Resources
from panamia.settings import Settings

HEALTH_TIMEOUT = 2.0
DOCS_URL, OAUTH2_REDIRECT_URL = "/docs", "/docs/oauth2-redirect"
SWAGGER_UI = "/static/swagger-ui"  # vendored: the docs work offline and load no CDN
logger = logging.getLogger(__name__)
EnsureIndexes = Callable[[MongoDatabase], Awaitable[None]]


class RefreshedSessionCookie:
    """Adds the Set-Cookie that `current_user` asked for when it slid a session's expiry."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                cookie = scope.get("state", {}).get("set_session_cookie")
                if cookie:
                    message["headers"] = [*message.get("headers", []),
                                          (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _probe(check) -> str:
    try:
        await asyncio.wait_for(check(), HEALTH_TIMEOUT)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down", and says why
        return f"down: {type(exc).__name__}"


async def _create_indexes(resources: Resources, ensure_indexes: EnsureIndexes) -> None:
    """Start even when MongoDB is down: PostgreSQL-only endpoints keep working."""
    try:
        await asyncio.wait_for(ensure_indexes(resources.mongo), 10)
    except Exception as exc:  # noqa: BLE001
        logger.warning("MongoDB indexes not ensured at start-up (%s); content may be slow "
                       "or unavailable until MongoDB answers", type(exc).__name__)


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Whether PostgreSQL and MongoDB answer")
    async def health(request: Request) -> JSONResponse:
        resources: Resources = request.app.state.resources

        async def postgres():
            async with resources.reads() as db:
                await db.execute(text("SELECT 1"))

        async def mongo():
            await resources.mongo.command("ping")

        report = {"postgres": await _probe(postgres), "mongo": await _probe(mongo)}
        healthy = all(v == "ok" for v in report.values())
        return JSONResponse(report, status_code=200 if healthy else 503)

    return router


def docs_router() -> APIRouter:
    """Swagger UI at /docs from this service's own /static, and the site's icon at the path
    browsers ask for by themselves."""
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_URL)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=root + request.app.openapi_url, title=f"{request.app.title} API",
            swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/docs.css",
            swagger_favicon_url=f"{root}/static/favicon.svg",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
            # Deep links put a link inside each operation's button, which no one can target.
            swagger_ui_parameters={"deepLinking": False},
        )
        return HTMLResponse(page.body.replace(b"<html>", b'<html lang="en">', 1))

    @router.get(OAUTH2_REDIRECT_URL)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/favicon.ico")
    async def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon")

    return router


# FastAPI documents its own 422 body; ours is the envelope of errors.py, so say so.
ERROR_ENVELOPE = {
    "title": "Problem",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _document_error_envelope(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schemas = generate().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_ENVELOPE
        return app.openapi_schema

    app.openapi = openapi


def create_service(
    settings: Settings,
    *,
    title: str,
    process_name: str,
    routers: Iterable[APIRouter],
    ensure_indexes: EnsureIndexes,
    resources: Resources | None = None,
    background: Iterable[Callable[[Resources], asyncio.Future]] = (),
) -> FastAPI:
    """Build a service. `ensure_indexes` creates the MongoDB indexes when it starts on its
    own resources; tests pass `resources` bound to their own databases."""
    settings.require_runtime()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = app.state.resources is None
        if opened:
            app.state.resources = Resources.open(settings, process_name)
            await _create_indexes(app.state.resources, ensure_indexes)
        tasks = [asyncio.create_task(start(app.state.resources)) for start in background
                 if settings.background_work]
        tasks.append(asyncio.create_task(metrics.watch_pool(app.state.resources)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            metrics.worker_stopped()
            if opened:
                await app.state.resources.close()
                app.state.resources = None

    app = FastAPI(title=title, lifespan=lifespan, dependencies=[Depends(verify_csrf)],
                  docs_url=None, redoc_url=None)
    app.state.resources = resources
    install_error_handlers(app)
    _document_error_envelope(app)
    install_redaction()
    app.add_middleware(RefreshedSessionCookie)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       allowances=photo_routes.UPLOADS)
    app.add_middleware(RequestIds)
    metrics.install(app, settings, scraped=[outbox_service.backlog_metrics])
    # outermost: every answer carries them
    headers.install(app, settings, docs_paths=(DOCS_URL, OAUTH2_REDIRECT_URL))
    pages.add_to_layout(app, signed_in_layout, unread_badge)
    app.include_router(health_router())
    app.include_router(photo_routes.files_router)  # each service serves them from its origin
    app.include_router(docs_router())
    for router in routers:
        app.include_router(router)
    return app
