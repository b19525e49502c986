"""The legacy move (phases 2 and 3) next to the plainest fast path, and its memory at N and 4N.

Run: `.venv/bin/python bench/legacy.py [--users 50000] [--factor 4] [--batch-size 500]
[--no-rss] [--phase 2|3]`

It generates N legacy users (1.5 accounts and 2 sessions each on average, a few sign-in
tokens) and 3 documents per user referencing them (a profile, an article with co-authors,
a notification), with a few per cent of messy cases: emails differing only in case (merged),
malformed emails (rejected), string `_id`s, orphaned and expired records, references
written as hex strings, to unknown ids, or to the app's own `users` collection (resolved
with `--alias users:email`). Seeding is insert_many in batches of 10,000.

Each phase runs in a subprocess of its own (phase 2: `auth.run_auth`, phase 3:
`refs.run_refs --alias users:email`), which reports its time and peak RSS (VmHWM, see
`peak_rss_kib`). At N it is compared with the plainest path to the same result on the
same servers:
* phase 2: one streaming read of the three NextAuth collections, then COPY into fresh
  tables of exactly the rows phase 2 wrote (users, accounts, sessions, legacy_id_map,
  legacy_rejects), exported beforehand;
* phase 3: per (collection, path), one streaming read and an unordered bulk_write of the
  same `$set` updates (taken from phase 3's result) into a second copy of the content.
It prints records per second of each and the ratio move / plain (target >= 0.6), and the
peak RSS at N and at factor x N (target: within 20 % of each other). It asserts nothing.

Embedded PostgreSQL and SecantusDB are started (and stopped) when POSTGRES_URL /
MONGODB_URL are unset; databases `bench_legacy_*` are created and dropped on the servers.
Run time on the embedded servers is dominated by SecantusDB (~5k inserts/s in bulk, and
slow reads): see docs/legacy-migration.md, "Benchmark".
"""

import argparse
import asyncio
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from bson import ObjectId
from pymongo import UpdateOne
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from panamia.db.mongo import create_client
from panamia.db.postgres import create_engine, create_sessionmaker
from panamia.legacy import auth, refs
from panamia.legacy.progress import Move
from panamia.schema import deploy

SECRET = "bench-secret-" + "b" * 40
CHUNK = 10_000
TABLES = ("users", "accounts", "sessions", "legacy_id_map", "legacy_rejects")
CONTENT = ("profiles", "articles", "notifications")
ALIAS = "users:email"
NOW = datetime.now(UTC).replace(microsecond=0)


def oid(kind: int, i: int) -> ObjectId:
    return ObjectId(f"{kind:02x}{i:022x}")


def user_ref(rng: random.Random, n: int):
    """A reference to a legacy user as the old app wrote it, messy a few per cent of the time."""
    roll, i = rng.random(), rng.randrange(n)
    if roll < 0.02:
        return str(oid(1, i))  # an ObjectId written as text
    if roll < 0.03:
        return oid(9, i)  # an id of no user
    if roll < 0.04:
        return oid(7, i)  # the app's own `users` collection
    return oid(1, i) if i % 97 else f"str-{i}"  # every 97th user has a string _id


def batches(n: int, seed: int):
    """(collection, documents) in chunks of CHUNK, generated as they are inserted."""
    rng = random.Random(seed)
    for start in range(0, n, CHUNK):
        users, app_users, accounts, sessions = [], [], [], []
        profiles, articles, notifications = [], [], []
        for i in range(start, min(start + CHUNK, n)):
            _id = oid(1, i) if i % 97 else f"str-{i}"
            email = f"user{i}@example.org"
            roll = rng.random()
            if roll < 0.03:
                email = f"USER{max(i - 1, 0)}@Example.org"  # merged with the user before
            elif roll < 0.04:
                email = f"broken-{i}"
            users.append({"_id": _id, "email": email, "name": f"User {i}", "image": None,
                          "emailVerified": NOW - timedelta(days=i % 300)})
            if i % 10 == 0:
                app_users.append({"_id": oid(7, i), "email": f"User{i}@example.org"})
            for k in range(1 + (rng.random() < 0.5)):
                owner = _id if rng.random() > 0.02 else oid(9, i)
                accounts.append({"_id": oid(2, i * 2 + k), "userId": owner, "type": "oauth",
                                 "provider": "github", "providerAccountId": f"gh-{i}-{k}",
                                 "access_token": f"gho_{i}_{k}", "token_type": "bearer"})
            for k in range(rng.randint(1, 3)):
                days = 20 if rng.random() > 0.05 else -1
                sessions.append({"_id": oid(3, i * 3 + k), "sessionToken": f"tok-{i}-{k}",
                                 "userId": _id, "expires": NOW + timedelta(days=days)})
            profiles.append({"_id": oid(4, i), "userId": _id, "name": f"User {i}"})
            articles.append({"_id": oid(5, i), "slug": f"a-{i}", "authorId": user_ref(rng, n),
                             "coAuthorIds": [user_ref(rng, n) for _ in range(rng.randint(0, 2))],
                             "title": "t" * 40})
            notifications.append({"_id": oid(6, i), "targetId": user_ref(rng, n),
                                  "actorId": user_ref(rng, n) if rng.random() > 0.2 else None,
                                  "type": "Like"})
        yield from (("nextauth_users", users), ("users", app_users),
                    ("nextauth_accounts", accounts), ("nextauth_sessions", sessions),
                    ("profiles", profiles), ("articles", articles),
                    ("notifications", notifications))


async def seed(mongo_url: str, names: list[str], n: int) -> float:
    started = time.perf_counter()
    client = create_client(mongo_url, "bench")
    for collection, docs in batches(n, seed=n):
        for name in names if collection in CONTENT else names[:1]:
            if docs:
                await client[name][collection].insert_many(docs, ordered=False)
    await client[names[0]].nextauth_verification_tokens.insert_many(
        [{"_id": oid(8, i), "identifier": f"user{i}@example.org", "token": f"t{i}",
          "expires": NOW} for i in range(10)])
    await client.close()
    return time.perf_counter() - started


async def recreate(server_url: str, name: str, drop_only: bool = False) -> str:
    engine = create_engine(server_url, "bench", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    base, _, query = server_url.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    if not drop_only:
        await asyncio.to_thread(deploy.upgrade, url)
    return url


# --- each phase in a subprocess of its own (its peak RSS is the phase's) ---

async def phase(which: str, pg_url: str, mongo_url: str, name: str, batch_size: int) -> dict:
    engine = create_engine(pg_url, "bench")
    client = create_client(mongo_url, "bench")
    db = create_sessionmaker(engine)
    started = time.perf_counter()
    if which == "2":
        done = await auth.run_auth(Move(db=db, mongo=client[name], secret=SECRET,
                                        batch_size=batch_size))
        figures = {"records": sum(cp.read for cp in done)}
    else:
        done = await refs.run_refs(client[name], db, aliases=[ALIAS], batch_size=batch_size)
        figures = {"records": sum(r.counts["read"] for r in done),
                   "unresolved": sum(r.counts["unresolved"] for r in done)}
    figures["seconds"] = time.perf_counter() - started
    await engine.dispose()
    await client.close()
    return {**figures, "maxrssKiB": peak_rss_kib()}


def peak_rss_kib() -> int:
    """This process's peak RSS. Linux carries the parent's ru_maxrss across fork and exec
    (the bench parent, having generated the data, is bigger than a phase), so read the
    high-water mark of this process's own memory, VmHWM, where there is one."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_phase(which: str, pg_url: str, mongo_url: str, name: str, batch_size: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", which, pg_url, mongo_url, name,
                          str(batch_size)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the plainest fast paths ---

async def plain_phase2(moved_url: str, fresh_url: str, mongo_url: str, name: str) -> float:
    """Read the legacy collections once, then COPY the rows phase 2 wrote into fresh tables."""
    source = await asyncpg.connect(moved_url)
    dumps = {}
    for table in TABLES:
        buffer = io.BytesIO()
        await source.copy_from_table(table, output=buffer, format="binary")
        dumps[table] = buffer.getvalue()
    await source.close()
    target = await asyncpg.connect(fresh_url)
    client = create_client(mongo_url, "bench")
    started = time.perf_counter()
    for collection in ("nextauth_users", "nextauth_accounts", "nextauth_sessions"):
        async for _ in client[name][collection].find().batch_size(CHUNK):
            pass
    async with target.transaction():
        for table in TABLES:
            await target.copy_to_table(table, source=io.BytesIO(dumps[table]), format="binary")
    elapsed = time.perf_counter() - started
    await target.close()
    await client.close()
    return elapsed


async def plain_phase3(mongo_url: str, moved: str, plain: str, batch_size: int) -> float:
    """Per (collection, path): read it once, bulk_write the same updates phase 3 made."""
    client = create_client(mongo_url, "bench")
    started = time.perf_counter()
    for ref in refs.registry_paths():
        kept = f"{refs.KEPT}.{ref.path}"
        ops = []
        async for doc in client[moved][ref.collection].find(
                {}, {ref.parts[0]: 1, kept: 1}).sort("_id", 1).batch_size(batch_size):
            node = doc.get(refs.KEPT)
            for part in ref.parts:
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {
                    ref.parts[0]: doc[ref.parts[0]], kept: node}}))
            if len(ops) >= batch_size:
                await client[plain][ref.collection].bulk_write(ops, ordered=False)
                ops = []
        if ops:
            await client[plain][ref.collection].bulk_write(ops, ordered=False)
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


# --- the parent ---

def servers(stack: list) -> tuple[str, str]:
    postgres_url, mongo_url = os.environ.get("POSTGRES_URL"), os.environ.get("MONGODB_URL")
    if postgres_url and mongo_url:
        return postgres_url, mongo_url
    from panamia.db.embedded import EmbeddedMongo, EmbeddedPostgres

    data = tempfile.TemporaryDirectory(prefix="bench-legacy-")
    stack.append(data)
    if not postgres_url:
        postgres = EmbeddedPostgres(Path(data.name))
        postgres_url = postgres.start(database="postgres")
        stack.append(postgres)
    if not mongo_url:
        mongo = EmbeddedMongo(None, sync_on_commit=False)
        mongo_url = mongo.start(preferred_port=None)
        stack.append(mongo)
    return postgres_url, mongo_url


def measure(postgres_url: str, mongo_url: str, n: int, batch_size: int,
            compare: bool, phases: tuple[str, ...]) -> dict:
    tag = f"bench_legacy_{n}"
    names = [tag, f"{tag}_plain"] if compare and "3" in phases else [tag]
    url = asyncio.run(recreate(postgres_url, tag))
    client_drop = []
    try:
        seconds = asyncio.run(seed(mongo_url, names, n))
        client_drop = names
        print(f"N={n}: seeded in {seconds:.0f} s", flush=True)
        # Phase 3 reads what phase 2 mapped: it never runs alone.
        result = {p: run_phase(p, url, mongo_url, tag, batch_size) for p in ("2", "3")
                  if p in phases or p == "2"}
        if compare and "2" in phases:
            fresh = asyncio.run(recreate(postgres_url, f"{tag}_copy"))
            result["2"]["plain"] = asyncio.run(plain_phase2(url, fresh, mongo_url, tag))
            asyncio.run(recreate(postgres_url, f"{tag}_copy", drop_only=True))
        if compare and "3" in phases:
            result["3"]["plain"] = asyncio.run(
                plain_phase3(mongo_url, tag, names[1], batch_size))
        return result
    finally:
        asyncio.run(recreate(postgres_url, tag, drop_only=True))

        async def drop() -> None:
            client = create_client(mongo_url, "bench")
            for name in client_drop:
                await client.drop_database(name)
            await client.close()

        asyncio.run(drop())


def report(n: int, result: dict) -> None:
    for p, r in result.items():
        extra = f" ({r['unresolved']} references unresolved, as seeded)" if p == "3" else ""
        print(f"N={n}: phase {p}: {r['records']} records in {r['seconds']:.1f} s = "
              f"{r['records'] / r['seconds']:,.0f}/s, peak RSS {r['maxrssKiB'] / 1024:.0f} MiB"
              + extra, flush=True)
        if "plain" in r:
            print(f"  plain path {r['records'] / r['plain']:,.0f}/s; ratio move/plain "
                  f"{r['plain'] / r['seconds']:.2f} (target >= 0.6)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--factor", type=int, default=4,
                        help="Peak RSS is compared at N and at factor x N")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--no-rss", action="store_true", help="Skip the run at factor x N")
    parser.add_argument("--phase", choices=("2", "3"), action="append", dest="phases",
                        help="Measure only this phase (phase 3 runs phase 2 first, unmeasured "
                             "against its plain path); repeatable; default both")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        which, pg_url, mongo_url, name, batch = args.worker
        print(json.dumps(asyncio.run(phase(which, pg_url, mongo_url, name, int(batch)))))
        return
    stack: list = []
    try:
        postgres_url, mongo_url = servers(stack)
        started = time.perf_counter()
        phases = tuple(args.phases or ("2", "3"))
        small = measure(postgres_url, mongo_url, args.users, args.batch_size, compare=True,
                        phases=phases)
        report(args.users, small)
        if not args.no_rss:
            big_n = args.users * args.factor
            big = measure(postgres_url, mongo_url, big_n, args.batch_size, compare=False,
                          phases=phases)
            report(big_n, big)
            for p in big:
                low, high = small[p]["maxrssKiB"], big[p]["maxrssKiB"]
                print(f"phase {p} peak RSS: {low / 1024:.0f} MiB at N={args.users}, "
                      f"{high / 1024:.0f} MiB at N={big_n}: {(high / low - 1) * 100:+.0f} % "
                      "(target within 20 %)")
        print(f"total run time {time.perf_counter() - started:.0f} s")
    finally:
        for item in reversed(stack):
            (item.cleanup if hasattr(item, "cleanup") else item.stop)()


if __name__ == "__main__":
    main()
