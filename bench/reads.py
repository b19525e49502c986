"""What content reads cost: article pages of 10 and 100, and your own profile.

Run: `.venv/bin/python bench/reads.py [--seconds 5] [--concurrency 32] [--count 50]`

Starts embedded PostgreSQL and SecantusDB when POSTGRES_URL / MONGODB_URL are unset (else
it creates a throw-away database on the given servers and drops it at the end), migrates,
seeds 5 authors (plus a co-author and a deleted one) with 250 published articles and one
signed-in member, then measures:

* round trips per request, counted in this process over `--count` sequential requests
  through the real app (ASGI): PostgreSQL statements (SQLAlchemy), PostgreSQL round trips
  (asyncpg exchanges, so the pool's pre-ping shows), MongoDB commands (a PyMongo
  CommandListener). Pages of 10 and 100 should cost the same.
* rps and p50 / p99 latency at `--concurrency` keep-alive connections over real HTTP
  against the main app under uvicorn in its own process (one worker): GET /api/articles
  with pageSize 10 and 100 (anonymous), and GET /api/profile (signed in).
* GET /api/profile against a direct script: the same two queries (the session lookup,
  then `ensure_profile`) issued without HTTP by the same number of concurrent tasks in this
  process. ratio = HTTP rps / direct rps (target >= 0.5).

It prints figures and asserts nothing. Shares `bench/session.py`'s load generator.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from pymongo import AsyncMongoClient, monitoring
from databases import bench_databases
from session import (
    COOKIE,
    Phase,
    count_round_trips,
    load,
    loopback,
    ms,
    request_bytes,
    stop,
)

SECRET = "bench-secret-" + "r" * 40
ARTICLES = 250
PAGES = {"articles, page of 10": "/api/articles?pageSize=10",
         "articles, page of 100": "/api/articles?pageSize=100"}
PROFILE = "/api/profile"


class MongoCommands(monitoring.CommandListener):
    """Counts the commands PyMongo sends, by name."""

    def __init__(self):
        self.names: Counter = Counter()

    def started(self, event) -> None:
        self.names[event.command_name] += 1

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def open_resources(settings, listeners=()):
    """Resources like `Resources.open`, with MongoDB command listeners attached."""
    from panamia.db.postgres import create_engine, create_sessionmaker
    from panamia.mail import create_mailer
    from panamia.resources import Resources

    engine = create_engine(settings.postgres_url, "bench")
    client = AsyncMongoClient(settings.mongodb_url, appname="bench", tz_aware=True,
                              event_listeners=list(listeners))
    return Resources(
        settings=settings, db=create_sessionmaker(engine),
        reads=create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT")),
        mongo=client[settings.mongodb_db], mailer=create_mailer(settings),
        engine=engine, mongo_client=client,
    )


async def seed(settings) -> tuple[str, str]:
    """Authors, articles and one signed-in member; (raw session token, its hash)."""
    from sqlalchemy import insert

    from panamia.identity import service
    from panamia.identity.models import User, new_id
    from panamia.identity.tokens import session_token_hash
    from panamia.profiles.service import ensure_profile
    from panamia.sidecar.registry import ensure_indexes

    resources = open_resources(settings)
    try:
        await ensure_indexes(resources.mongo)
        authors = [new_id() for _ in range(6)]
        member = new_id()
        async with resources.db.begin() as db:
            await db.execute(insert(User), [
                {"id": user_id, "email": f"{user_id}@example.org", "name": f"Writer {i}",
                 "screenname": f"writer{i}"} for i, user_id in enumerate(authors)
            ] + [{"id": member, "email": "member@example.org", "name": "Member"}])
            session = await service.start_session(db, resources, member)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        await resources.mongo.articles.insert_many([{
            "slug": f"article-{i:04}", "title": f"Article {i}", "excerpt": "An excerpt.",
            "body": "Some *markdown*. " * 50, "authorId": [*authors[:5], "deleted"][i % 6],
            "coAuthorIds": [authors[5]] if i % 3 == 0 else [], "tags": ["bench"],
            "status": "published", "publishedAt": start + timedelta(minutes=i),
            "createdAt": start, "updatedAt": start,
        } for i in range(ARTICLES)])
        await ensure_profile(resources, member, "Member")
        return session.token, session_token_hash(session.token, SECRET)
    finally:
        await resources.close()


async def direct_profile(resources, token_hash: str, seconds: float, concurrency: int) -> Phase:
    """GET /api/profile's queries without HTTP: the session lookup, then `ensure_profile`."""
    from sqlalchemy import select

    from panamia.identity.models import Session, User
    from panamia.profiles.service import ensure_profile

    lookup = (
        select(Session.id, Session.expires, User.id, User.email, User.name, User.image,
               User.screenname, User.role)
        .join(User, User.id == Session.user_id).where(Session.session_token == token_hash)
    )
    phase = Phase("direct")
    clock = time.perf_counter

    async def worker(deadline: float) -> None:
        while (started := clock()) < deadline:
            async with resources.reads() as db:
                row = (await db.execute(lookup)).one()
            await ensure_profile(resources, row[2], row[4])
            phase.latencies.append(clock() - started)
            phase.requests += 1

    started = clock()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    phase.seconds = clock() - started
    return phase


async def count_per_request(settings, token: str, count: int) -> dict[str, dict]:
    """Round trips per request, by database, through the real app in this process."""
    import httpx
    from sqlalchemy import event

    from panamia.apps.main import create_app

    asyncpg_exchanges = count_round_trips()
    commands = MongoCommands()
    resources = open_resources(settings, [commands])
    statements: Counter = Counter()

    def record(conn, cursor, statement, *args):
        statements[" ".join(statement.split())[:70]] += 1

    event.listen(resources.engine.sync_engine, "before_cursor_execute", record)
    app = create_app(settings, resources)
    results = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.auth_url) as client:
            for label, path, cookie in [*((k, v, None) for k, v in PAGES.items()),
                                        ("own profile", PROFILE, token)]:
                client.cookies.clear()
                if cookie:
                    client.cookies.set(COOKIE, cookie)
                for _ in range(3):  # warm: pool connections, prepared statements
                    (await client.get(path)).raise_for_status()
                asyncpg_exchanges.take()
                commands.names.clear()
                statements.clear()
                for _ in range(count):
                    (await client.get(path)).raise_for_status()
                exchanges = asyncpg_exchanges.take()
                results[label] = {
                    "postgres statements": sum(statements.values()) / count,
                    "postgres round trips": exchanges["total"] / count,
                    "mongodb commands": sum(commands.names.values()) / count,
                    "detail": {**{f"pg: {s}": n / count for s, n in statements.items()},
                               **{f"mongo: {c}": n / count for c, n in commands.names.items()},
                               **{f"asyncpg {k}": n / count
                                  for k, n in exchanges["by_kind"].items()}},
                }
    finally:
        await resources.close()
    return results


async def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"uvicorn exited with status {process.returncode}")
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"uvicorn did not answer on port {port} in {timeout}s")


def row(label: str, phase: Phase) -> str:
    return (f"{label:24} {phase.requests:9d} {phase.errors:6d} {phase.rps:9.0f} "
            f"{ms(phase.percentile(0.50)):>10} {ms(phase.percentile(0.99)):>10}")


async def run(args, settings, port, process, token, token_hash) -> None:
    from panamia.resources import Resources

    await wait_until_serving(port, process)
    print(f"\nreads bench: {args.seconds:g} s per phase, {args.concurrency} concurrent "
          f"clients, 1 uvicorn worker, {os.cpu_count()} CPUs, {ARTICLES} articles")
    print(f"{'phase':24} {'requests':>9} {'errors':>6} {'rps':>9} {'p50':>10} {'p99':>10}")

    async def over_http(path: str, cookie: str | None, seconds: float) -> Phase:
        return await load(loopback(port), path, request_bytes(path, cookie), seconds,
                          args.concurrency, {})

    for label, path in PAGES.items():
        await over_http(path, None, args.warmup)
        print(row(label, await over_http(path, None, args.seconds)))

    await over_http(PROFILE, token, args.warmup)
    http = await over_http(PROFILE, token, args.seconds)
    resources = Resources.open(settings, "bench-direct")
    try:
        await direct_profile(resources, token_hash, args.warmup, args.concurrency)
        direct = await direct_profile(resources, token_hash, args.seconds, args.concurrency)
    finally:
        await resources.close()
    print(row("own profile, HTTP", http))
    print(row("own profile, direct", direct))
    print(f"ratio HTTP / direct for GET /api/profile: {http.rps / direct.rps:.2f} "
          "(target >= 0.5)")

    print(f"\nround trips per request (mean of {args.count} sequential requests)")
    counted = await count_per_request(settings, token, args.count)
    for label, figures in counted.items():
        total = figures["postgres statements"] + figures["mongodb commands"]
        print(f"{label:24} {total:.2f} = {figures['postgres statements']:.2f} PostgreSQL "
              f"statements + {figures['mongodb commands']:.2f} MongoDB commands "
              f"(PostgreSQL round trips at the wire: {figures['postgres round trips']:.2f})")
        for what, n in figures["detail"].items():
            print(f"    {n:5.2f}  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--count", type=int, default=50,
                        help="sequential requests for the round-trip count")
    args = parser.parse_args()

    from panamia.db.embedded import free_port
    from panamia.settings import Settings

    with bench_databases("panamia-reads") as dbs:
        port = free_port()
        values = {"POSTGRES_URL": dbs.url, "MONGODB_URL": dbs.mongodb_url,
                  "MONGODB_DB": dbs.name, "AUTH_SECRET": SECRET, "PANAMIA_ENV": "test",
                  "AUTH_URL": f"http://127.0.0.1:{port}", "PANAMIA_DATA_DIR": str(dbs.scratch)}
        settings = Settings(_env_file=None, **{k.lower(): v for k, v in values.items()})
        token, token_hash = asyncio.run(seed(settings))
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "panamia.apps.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log"],
            env={**os.environ, **values}, cwd=dbs.scratch,
        )
        try:
            asyncio.run(run(args, settings, port, process, token, token_hash))
        finally:
            stop(process)


if __name__ == "__main__":
    main()
