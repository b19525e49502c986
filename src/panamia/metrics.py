"""What an operator graphs and alerts on (docs/observability.md): the series every service
keeps, the middleware that counts requests, and `/metrics`.

Under several workers (`panamia serve --workers N`) each process writes its values to files
in PROMETHEUS_MULTIPROC_DIR, which `panamia serve` and `panamia dev` set before the workers
start; a scrape, whichever worker answers it, sums them all. The variable must be set before
prometheus_client is imported, so a process either has it from the start or never.

`/metrics` is not public: it answers only `Authorization: Bearer <METRICS_TOKEN>`, and 404
(as for any unknown path) without it or when METRICS_TOKEN is not set.
"""

import asyncio
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from sqlalchemy.pool import Pool
from starlette.types import ASGIApp, Receive, Scope, Send

from panamia.resources import Resources, ResourcesDep
from panamia.settings import Settings

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The route label of a request that matched no route: raw paths would be one series per id.
UNMATCHED = "unmatched"
POOL_SAMPLE_INTERVAL = 1.0  # seconds

logger = logging.getLogger(__name__)

REQUESTS = Counter("panamia_http_requests", "Requests answered, by route template and status",
                   ["route", "method", "status"])
LATENCY = Histogram("panamia_http_request_duration_seconds",
                    "Time from a request's arrival to the end of its answer",
                    ["route", "method"])
POOL_IN_USE = Gauge("panamia_db_pool_in_use", "PostgreSQL connections checked out, per process",
                    multiprocess_mode="liveall")
POOL_WAITING = Gauge("panamia_db_pool_waiting",
                     "Tasks waiting for a PostgreSQL connection, per process",
                     multiprocess_mode="liveall")
RELAY_DELIVERED = Counter("panamia_outbox_delivered", "Outbox events the relay delivered",
                          ["topic"])
RELAY_FAILURES = Counter("panamia_outbox_relay_failures",
                         "Outbox event deliveries that failed and will be tried again",
                         ["topic"])
BOOKING_CONFLICTS = Counter("panamia_booking_conflicts",
                            "Reservations refused with 409: the range was taken",
                            ["sidecar", "constraint"])
SIGNIN_MAILS_SENT = Counter("panamia_signin_mails_sent", "Sign-in links mailed")
SIGNIN_MAILS_REFUSED = Counter("panamia_signin_mails_refused",
                               "Sign-in links refused by the rate limit, by the limit reached",
                               ["limit"])


def multiprocess_mode() -> bool:
    return MULTIPROCESS_DIR in os.environ


def emptied(directory: Path) -> Path:
    """`directory`, created, without the files of an earlier run, whose counts a scrape would
    otherwise add in. Only the collector's own `*.db` files are deleted."""
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()
    return directory


def share_between_workers(default: Path) -> None:
    """Before starting several workers: every worker writes to PROMETHEUS_MULTIPROC_DIR
    (`default` unless it is set), emptied now."""
    chosen = os.environ.get(MULTIPROCESS_DIR) or default
    os.environ[MULTIPROCESS_DIR] = str(emptied(Path(chosen)))


class RequestMetrics:
    """Pure ASGI, and a few microseconds a request: the route is read from `scope["route"]`,
    which routing sets on the way in, rather than matched again."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self._series: dict[tuple[str, str, int], tuple] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500  # unless an answer starts: an exception no handler turned into one

        async def send_with_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            key = (route.path if route is not None else UNMATCHED, scope["method"], status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    REQUESTS.labels(key[0], key[1], str(status)), LATENCY.labels(key[0], key[1])
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)


def _waiting(pool: Pool) -> int:
    """Tasks blocked in the pool's queue. SQLAlchemy has no public count of them; its async
    queue is an `asyncio.Queue`, whose waiting getters are the tasks (tests/observability
    checks this against a pool held full)."""
    queue = getattr(getattr(pool, "_pool", None), "_queue", None)
    return sum(not getter.done() for getter in getattr(queue, "_getters", ()))


def sample_pool(pool: Pool) -> None:
    POOL_IN_USE.set(pool.checkedout())
    POOL_WAITING.set(_waiting(pool))


async def watch_pool(resources: Resources) -> None:
    """Each process samples its own pool: a scrape is answered by one worker only."""
    if resources.engine is None:  # bound to a connection given to it, as in the tests
        return
    while True:
        sample_pool(resources.engine.pool)
        await asyncio.sleep(POOL_SAMPLE_INTERVAL)


def worker_stopped() -> None:
    """A worker's pool gauges leave the sums as it stops; its counts stay in them. Uvicorn's
    workers have no exit hook, and end by re-raising the signal, past `atexit`: the app's
    shutdown calls this."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())


class _Read:
    """Series read at scrape time, as a collector of the scrape's own registry."""

    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


Scraped = Callable[[Resources], Awaitable[list[Metric]]]


async def exposition(resources: Resources, scraped: Sequence[Scraped] = ()) -> bytes:
    """Every process's series (summed by the multiprocess collector, or this process's own),
    then what `scraped` reads now, such as the outbox backlog from the database; a reading
    that fails is left out, with a warning, and the rest answered."""
    registry = CollectorRegistry()
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
        own = b""
    else:
        own = generate_latest(REGISTRY)
    for read in scraped:
        try:
            registry.register(_Read(await read(resources)))
        except Exception as exc:  # noqa: BLE001 - the other series are worth answering with
            logger.warning("%s left out of /metrics: %s", read.__name__, type(exc).__name__)
    return own + generate_latest(registry)


def _authorized(request: Request, token: str | None) -> bool:
    given = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def router(settings: Settings, scraped: Sequence[Scraped]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics(request: Request, resources: ResourcesDep) -> Response:
        if not _authorized(request, settings.metrics_token):
            raise HTTPException(404)  # answered as any unknown path: nothing to find here
        return Response(await exposition(resources, scraped), media_type=CONTENT_TYPE_LATEST)

    return router


def install(app: FastAPI, settings: Settings, *, scraped: Sequence[Scraped] = ()) -> None:
    """Count the app's requests and serve its `/metrics`, with `scraped` read at each scrape."""
    app.add_middleware(RequestMetrics)
    app.include_router(router(settings, scraped))
