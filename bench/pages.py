"""What a server-rendered page costs over the JSON that carries the same data.

Run: `.venv/bin/python bench/pages.py [--rounds 300]`

Starts embedded PostgreSQL and SecantusDB when POSTGRES_URL / MONGODB_URL are unset (else it
uses throw-away databases on the given servers and drops them at the end), migrates, seeds
the demo community (people, profiles, articles, pet listings, bookings, reviews), and runs
`panamia serve main` and `panamia serve pets` as real uvicorn processes. Then, in one run,
one keep-alive client per service, alternating page and JSON request by request so both see
the same machine load, anonymous (as the JSON calls are):

* the main app's `/directory` page against `GET /api/directory`;
* a listing page with its month calendar and reviews against the three JSON calls that
  carry the same data (`/listings/{id}`, its `/availability` for the month, its
  `/reviews`), timed together, and against `/listings/{id}` alone.

It prints p50 and p95 in milliseconds and page/JSON ratios of each (target <= 1.5). It
asserts nothing.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from databases import bench_databases
from session import stop

SECRET = "bench-secret-" + "p" * 40
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
LISTING = "demo-listing-devon"


async def prepare(settings) -> None:
    from panamia import demo
    from panamia.resources import Resources

    resources = Resources.open(settings, "bench")
    try:
        await demo.seed(resources)
    finally:
        await resources.close()


def serve(service: str, port: int, env: dict, scratch: Path) -> subprocess.Popen:
    log = (scratch / f"{service}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "panamia", "serve", service, "--port",
                             str(port)], env=env, cwd=scratch, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)


async def wait_for(url: str, process: subprocess.Popen) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(150):
            if process.poll() is not None:
                raise SystemExit(f"{url} exited with {process.returncode}")
            try:
                if (await http.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


async def timed(client: httpx.AsyncClient, paths: list[str], headers: dict) -> float:
    started = time.perf_counter()
    for path in paths:
        answer = await client.get(path, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
    return (time.perf_counter() - started) * 1000


async def measure(main_url: str, pets_url: str, rounds: int) -> dict[str, list[float]]:
    first = date.today().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    month = f"{first:%Y-%m}"
    cases = {
        "directory page": (main_url, ["/directory"], HTML),
        "GET /api/directory": (main_url, ["/api/directory"], JSON),
        "listing page": (pets_url, [f"/listings/{LISTING}?month={month}"], HTML),
        "3 JSON calls (listing, availability, reviews)": (pets_url, [
            f"/listings/{LISTING}",
            f"/listings/{LISTING}/availability?from={first}&to={following}",
            f"/listings/{LISTING}/reviews"], JSON),
        "GET /listings/{id}": (pets_url, [f"/listings/{LISTING}"], JSON),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    async with httpx.AsyncClient(base_url=main_url) as main, \
            httpx.AsyncClient(base_url=pets_url) as pets:
        clients = {main_url: main, pets_url: pets}
        for round_ in range(rounds + 20):
            for name, (base, paths, headers) in cases.items():
                took = await timed(clients[base], paths, headers)
                if round_ >= 20:  # warm-up: compiled statements, templates, connections
                    samples[name].append(took)
    return samples


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


def report(samples: dict[str, list[float]], rounds: int) -> None:
    print(f"\npages bench: {rounds} rounds, sequential, anonymous; {os.cpu_count()} CPUs shared "
          "by servers, databases and client")
    print(f"{'request':48} {'p50 ms':>8} {'p95 ms':>8}")
    stats = {}
    for name, values in samples.items():
        stats[name] = (statistics.median(values), percentile(values, 0.95))
        print(f"{name:48} {stats[name][0]:8.2f} {stats[name][1]:8.2f}")
    for page, json in (("directory page", "GET /api/directory"),
                       ("listing page", "3 JSON calls (listing, availability, reviews)"),
                       ("listing page", "GET /listings/{id}")):
        (p50, p95), (j50, j95) = stats[page], stats[json]
        print(f"{page} / {json}: p50 {p50 / j50:.2f}, p95 {p95 / j95:.2f} (target <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    from panamia.db.embedded import free_port
    from panamia.settings import Settings

    processes = []
    with bench_databases("panamia-bench-pages") as dbs:
        url, mongodb_url, name, scratch = dbs.url, dbs.mongodb_url, dbs.name, dbs.scratch
        try:
            main_port, pets_port = free_port(), free_port()
            settings = Settings(
                panamia_env="development", postgres_url=url, mongodb_url=mongodb_url,
                mongodb_db=name, auth_secret=SECRET, auth_url=f"http://127.0.0.1:{main_port}",
                pets_url=f"http://127.0.0.1:{pets_port}", _env_file=None,
            )
            asyncio.run(prepare(settings))
            names = ("PANAMIA_", "AUTH_", "POSTGRES_", "MONGODB_", "SMTP_", "PETS_URL")
            env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
            env.update(PANAMIA_ENV="development", PANAMIA_DATA_DIR=str(scratch),
                       AUTH_SECRET=SECRET, POSTGRES_URL=url, MONGODB_URL=mongodb_url,
                       MONGODB_DB=name, AUTH_URL=settings.auth_url, PETS_URL=settings.pets_url)
            for service, port, target in (("main", main_port, settings.auth_url),
                                          ("pets", pets_port, settings.pets_url)):
                processes.append(serve(service, port, env, scratch))
                asyncio.run(wait_for(target, processes[-1]))
            report(asyncio.run(measure(settings.auth_url, settings.pets_url, args.rounds)),
                   args.rounds)
        finally:
            for process in processes:
                stop(process)


if __name__ == "__main__":
    main()
