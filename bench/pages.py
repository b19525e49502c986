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
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx

SECRET = "bench-secret-" + "p" * 40
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
LISTING = "demo-listing-devon"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def prepare(settings) -> None:
    from panamia import demo
    from panamia.resources import Resources

    resources = Resources.open(settings, "bench")
    try:
        await demo.seed(resources)
    finally:
        await resources.close()


async def recreate(server_url: str, url: str, name: str, *, drop_only: bool = False) -> None:
    from sqlalchemy import text

    from panamia.db.postgres import create_engine

    engine = create_engine(server_url, "bench", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


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
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from panamia.db.embedded import EmbeddedMongo, EmbeddedPostgres
    from panamia.schema import migrate
    from panamia.settings import Settings

    scratch = Path(tempfile.mkdtemp(prefix="panamia-bench-pages-"))
    started, processes = [], []
    name = f"panamia_bench_pages_{uuid.uuid4().hex[:8]}"
    server_url, mongodb_url = os.environ.get("POSTGRES_URL"), os.environ.get("MONGODB_URL")
    created = False
    try:
        if not server_url:
            postgres = EmbeddedPostgres(scratch)
            server_url = postgres.start(database="postgres")
            started.append(postgres)
        if not mongodb_url:
            mongo = EmbeddedMongo(None, sync_on_commit=False)
            mongodb_url = mongo.start(preferred_port=None)
            started.append(mongo)
        base, _, query = server_url.partition("?")
        url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
        asyncio.run(recreate(server_url, url, name))
        created = True
        migrate.upgrade(url)
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
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if created:
            try:
                asyncio.run(recreate(server_url, url, name, drop_only=True))
                if os.environ.get("MONGODB_URL"):
                    from pymongo import MongoClient

                    MongoClient(mongodb_url).drop_database(name)
            except Exception as exc:  # noqa: BLE001 - report, keep cleaning up
                print(f"could not drop the bench databases {name}: {exc}", file=sys.stderr)
        while started:
            started.pop().stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
