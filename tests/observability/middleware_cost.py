"""What RequestIds and RequestMetrics add to each request, in CPU microseconds, around an app
that does nothing: `.venv/bin/python -m tests.observability.middleware_cost`, and again with
PROMETHEUS_MULTIPROC_DIR set to an empty directory for the workers' mode."""

import asyncio
import os
import time

from panamia.metrics import RequestMetrics
from panamia.requestids import RequestIds

REQUESTS = 50_000
ROUNDS = 7


class Route:
    path = "/api/profiles/{screenname}"


async def bare_app(scope, receive, send):
    scope["route"] = Route  # as routing leaves it
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive():
    return {"type": "http.request"}


async def send(message):
    pass


def request() -> dict:
    return {"type": "http", "method": "GET", "path": "/api/profiles/someone",
            "headers": [(b"host", b"example.org"), (b"x-request-id", b"req-1234")]}


async def cpu_per_request(app) -> float:
    """The least CPU time per request over several rounds: the machine is shared."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(REQUESTS):
            await app(request(), receive, send)
        rounds.append((time.process_time() - started) / REQUESTS * 1e6)
    return min(rounds)


async def main() -> None:
    bare = await cpu_per_request(bare_app)
    ids = await cpu_per_request(RequestIds(bare_app))
    both = await cpu_per_request(RequestMetrics(RequestIds(bare_app)))
    mode = "multiprocess" if "PROMETHEUS_MULTIPROC_DIR" in os.environ else "single process"
    print(f"{mode}: request ids +{ids - bare:.1f} µs, request ids and metrics "
          f"+{both - bare:.1f} µs a request (bare app {bare:.1f} µs)")


if __name__ == "__main__":
    asyncio.run(main())
