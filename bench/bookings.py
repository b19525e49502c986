"""Booking requests under contention: our service against PostgreSQL alone and two other ways.

Run: `.venv/bin/python bench/bookings.py [--requests 4000] [--concurrency 64] [--listings 200]
[--workers 1] [--profile N] [--through-topology]`

Starts embedded PostgreSQL and SecantusDB when POSTGRES_URL / MONGODB_URL are unset (else it
uses a throw-away database on the given servers and drops it at the end), migrates it, makes
`--listings` listings and `--concurrency` signed-in owners, and draws one list of random
requests (a listing, a first night within 60 days, 1 to 7 nights), so that many overlap.
The same list then goes through four approaches, each on an empty table, with
`--concurrency` clients at once:

* (a) `POST /bookings` over HTTP to `panamia serve pets --no-background` (one uvicorn
  worker, its own process; the relay runs elsewhere in production, `panamia work`), each
  client on its own keep-alive connection as its own owner: the cookie check, then BEGIN,
  the listing read with its lock, one statement inserting the booking and its outbox event
  and looking for a blackout, COMMIT.
* (b) the same INSERT sent straight to PostgreSQL with asyncpg, one connection per client,
  autocommit: what the database allows (the exclusion constraint decides).
* (c) the seed's pattern, on a copy of the table without the exclusion constraint: lock the
  listing (`SELECT … FOR UPDATE`), then `INSERT … SELECT … WHERE NOT EXISTS (overlap)`.
* (d) check, then insert, with no constraint and no lock.

It prints requests per second, accepted and refused counts, and how many pairs of active
bookings of one listing share a night afterwards ("double bookings"), then a/b (target
>= 0.3), b/c and the server's CPU per request (target <= 1 ms). It asserts nothing. All of
it shares this machine's cores: read ratios.

`--through-topology` adds (t) once (a) to (d) are measured: the production topology of
tests/fixtures/topology.py on the same databases (nginx with TLS before two replicas of pets
with two workers each, PgBouncer in transaction mode, `panamia work` relaying) takes the
same warm-up and the same list from the same clients, over TLS, with the cookie names of
https. Its row sits in the table; (t)/(a) compares throughput and the services' CPU per
request (summed over every worker), and nginx and PgBouncer's CPU per request is printed.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from databases import bench_databases
from session import loopback, production_topology, stop, topology_meters, with_children

SECRET = "bench-secret-" + "b" * 40
WINDOW, LONGEST = 60, 7
FIRST = date.today() + timedelta(days=30)

INSERT = """
    INSERT INTO {table} (id, listing_id, owner_id, sitter_id, start_date, end_date, status,
                         total_price, currency, pets)
    VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 'USD', '[{{"name":"Rex","species":"dog"}}]')
"""
OURS = INSERT.format(table="bookings") + (
    " ON CONFLICT ON CONSTRAINT ex_bookings_no_overlap DO NOTHING RETURNING id")
SEED_INSERT = """
    INSERT INTO seed.locked (id, listing_id, owner_id, sitter_id, start_date, end_date, status,
                             total_price, currency, pets)
    SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::date, $6::date, 'pending',
           $7::numeric, 'USD', '[]'
     WHERE NOT EXISTS (SELECT 1 FROM seed.locked WHERE listing_id = $2::varchar
                          AND status IN ('pending', 'confirmed')
                          AND daterange(start_date, end_date) && daterange($5::date, $6::date))
    RETURNING id
"""
CHECK = """
    SELECT EXISTS (SELECT 1 FROM seed.unchecked WHERE listing_id = $1
                      AND status IN ('pending', 'confirmed')
                      AND daterange(start_date, end_date) && daterange($2, $3))
"""
COPIES = """
    CREATE SCHEMA IF NOT EXISTS seed;
    CREATE TABLE seed.locked (LIKE public.bookings INCLUDING DEFAULTS);
    CREATE INDEX ON seed.locked (listing_id);
    CREATE TABLE seed.unchecked (LIKE public.bookings INCLUDING DEFAULTS);
    CREATE INDEX ON seed.unchecked (listing_id);
"""
DOUBLE = """
    SELECT count(*) FROM {table} a JOIN {table} b
      ON a.listing_id = b.listing_id AND a.id < b.id
     AND daterange(a.start_date, a.end_date) && daterange(b.start_date, b.end_date)
     WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
"""


def plain(url: str) -> str:
    """asyncpg takes postgresql:// URLs without SQLAlchemy's driver suffix."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def seed(url: str, listings: int, owners: int) -> tuple[list[tuple], list[tuple]]:
    """Sitters with a listing each, and owners with a session and a CSRF token each.

    Returns (listing id, sitter id, price) per listing and (owner id, request headers,
    the same headers with the cookie names of https) per owner."""
    import asyncpg

    from panamia.identity.models import new_id
    from panamia.identity.tokens import csrf_cookie_value, new_token, session_token_hash

    conn = await asyncpg.connect(plain(url))
    try:
        sitters = [new_id() for _ in range(listings)]
        people = [new_id() for _ in range(owners)]
        await conn.executemany("INSERT INTO users (id, email) VALUES ($1, $2)",
                               [(u, f"{u}@bench.example") for u in sitters + people])
        rows = [(new_id(), s, 40 + i % 20) for i, s in enumerate(sitters)]
        await conn.executemany(
            "INSERT INTO listings (id, sitter_id, title, price_per_day, services, species, "
            "max_pets, city) VALUES ($1, $2, 'Bench flat', $3, '{boarding}', '{dog}', 2, "
            "'Miami')", rows)
        headers = []
        for owner in people:
            token, csrf = new_token(), new_token()
            await conn.execute(
                "INSERT INTO sessions (id, session_token, user_id, expires) "
                "VALUES ($1, $2, $3, now() + interval '1 day')",
                new_id(), session_token_hash(token, SECRET), owner)
            signed = csrf_cookie_value(csrf, SECRET)
            headers.append((owner, *(f"Cookie: {prefix}authjs.session-token={token}; "
                                     f"{prefix}authjs.csrf-token={signed}\r\n"
                                     f"X-CSRF-Token: {csrf}\r\n" for prefix in ("", "__Secure-"))))
        await conn.execute(COPIES)
        return rows, headers
    finally:
        await conn.close()


def draw(count: int, listings: int, rng: random.Random) -> list[tuple[int, date, date]]:
    work = []
    for _ in range(count):
        start = FIRST + timedelta(days=rng.randrange(WINDOW))
        work.append((rng.randrange(listings), start,
                     start + timedelta(days=rng.randint(1, LONGEST))))
    return work


def cpu_seconds(*pids: int) -> float:
    """User + system CPU so far of these processes and the children they have reaped."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids(pgdata: Path | None) -> list[int]:
    """The embedded postmaster and its children (none for an external server)."""
    try:
        return with_children([int((pgdata / "postmaster.pid").read_text().split()[0])])
    except (TypeError, OSError, ValueError, IndexError):
        return []


class Result:
    def __init__(self, name: str):
        self.name, self.codes, self.seconds, self.double = name, Counter(), 0.0, 0
        self.cpu: dict[str, float] = {}

    @property
    def rps(self) -> float:
        return sum(self.codes.values()) / self.seconds if self.seconds else 0.0


async def drive(concurrency: int, work: list, one) -> tuple[Counter, float]:
    """Run `one(client, item)` over `work` from `concurrency` clients; count what it returns."""
    queue = list(reversed(work))
    codes: Counter = Counter()

    async def client(index: int) -> None:
        while queue:
            codes[await one(index, queue.pop())] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return codes, time.perf_counter() - started


async def post_json(connect, host: str, headers: list[str], work: list, concurrency: int,
                    request) -> tuple[Counter, float]:
    """Each client on its own keep-alive connection from `connect()`, with its own headers,
    POSTs `request(item)` = (path, JSON body as bytes) for its share of `work`; the statuses."""
    streams = [await connect() for _ in range(concurrency)]

    async def one(index: int, item) -> str:
        path, body = request(item)
        reader, writer = streams[index]
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n".encode()
                     + headers[index].encode()
                     + b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await reader.readuntil(b"\r\n\r\n")
        at = head.lower().find(b"content-length:")
        await reader.readexactly(int(head[at + 15:head.index(b"\r\n", at)]))
        return head[9:12].decode()

    try:
        return await drive(concurrency, work, one)
    finally:
        for _, writer in streams:
            writer.close()


async def over_http(connect, host: str, listings: list, headers: list[str], work: list,
                    concurrency: int):
    import json

    def booking(item) -> tuple[str, bytes]:
        listing, start, end = item
        return "/bookings", json.dumps({
            "listingId": listings[listing][0], "startDate": start.isoformat(),
            "endDate": end.isoformat(), "pets": [{"name": "Rex", "species": "dog"}],
        }).encode()

    return await post_json(connect, host, headers, work, concurrency, booking)


async def straight(url: str, listings: list, owners: list, work: list, concurrency: int,
                   approach: str):
    import asyncpg

    from panamia.identity.models import new_id

    pool = await asyncpg.create_pool(plain(url), min_size=concurrency, max_size=concurrency)
    connections = [await pool.acquire() for _ in range(concurrency)]

    async def one(index: int, item) -> str:
        listing, start, end = item
        listing_id, sitter_id, price = listings[listing]
        values = (new_id(), listing_id, owners[index][0], sitter_id, start, end,
                  price * (end - start).days)
        conn = connections[index]
        if approach == "b":
            return "201" if await conn.fetchval(OURS, *values) else "409"
        async with conn.transaction():
            if approach == "c":
                await conn.execute("SELECT 1 FROM listings WHERE id = $1 FOR UPDATE", listing_id)
                return "201" if await conn.fetchval(SEED_INSERT, *values) else "409"
            if await conn.fetchval(CHECK, listing_id, start, end):
                return "409"
            await conn.execute(INSERT.format(table="seed.unchecked"), *values)
            return "201"

    try:
        return await drive(concurrency, work, one)
    finally:
        for conn in connections:
            await pool.release(conn)
        await pool.close()


async def double_bookings(url: str, table: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(plain(url))
    try:
        return await conn.fetchval(DOUBLE.format(table=table))
    finally:
        await conn.close()


async def empty(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(plain(url))
    try:
        await conn.execute("TRUNCATE bookings, reviews, outbox")
    finally:
        await conn.close()


def serve(service: str, url: str, mongodb_url: str, name: str, scratch: Path, secret: str,
          *options: str) -> tuple[subprocess.Popen, int]:
    """`panamia serve <service> <options>` on a free port, once it answers /health."""
    import httpx

    from panamia.db.embedded import free_port

    port = free_port()
    env = {**os.environ, "POSTGRES_URL": url, "MONGODB_URL": mongodb_url, "MONGODB_DB": name,
           "AUTH_SECRET": secret, "PANAMIA_ENV": "test", "AUTH_URL": f"http://127.0.0.1:{port}",
           "PANAMIA_DATA_DIR": str(scratch)}
    env.pop("SMTP_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "panamia", "serve", service, "--port", str(port), *options],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"panamia serve {service} exited with status {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process, port
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"panamia serve {service} did not become healthy in 60 s")


async def run(args, url: str, mongodb_url: str, name: str, scratch: Path,
              pgdata: Path | None) -> list[Result]:
    listings, owners = await seed(url, args.listings, args.concurrency)
    rng = random.Random(args.seed)
    work = draw(args.requests, args.listings, rng)
    warmup = [(i, start + timedelta(days=400), end + timedelta(days=400))
              for i, start, end in draw(args.concurrency * 8, args.listings, rng)]
    results = []

    process, port = serve("pets", url, mongodb_url, name, scratch, SECRET,
                          "--workers", str(args.workers), "--no-background")
    plain_headers = [lines for _, lines, _ in owners]
    try:
        await over_http(loopback(port), "127.0.0.1", listings, plain_headers, warmup,
                        args.concurrency)
        await empty(url)
        a = Result(f"(a) POST /bookings over HTTP, our service ({args.workers} worker"
                   + ("s)" if args.workers > 1 else ")"))
        servers, databases = with_children([process.pid]), postgres_pids(pgdata)
        before = cpu_seconds(*servers), cpu_seconds(*databases)
        a.codes, a.seconds = await over_http(loopback(port), "127.0.0.1", listings,
                                             plain_headers, work, args.concurrency)
        after = cpu_seconds(*servers), cpu_seconds(*databases)
        a.cpu = {"server": after[0] - before[0], "postgres": after[1] - before[1]}
        a.double = await double_bookings(url, "bookings")
        results.append(a)
    finally:
        stop(process)

    for approach, title, table in (
        ("b", "(b) the same INSERT straight to PostgreSQL", "bookings"),
        ("c", "(c) seed: FOR UPDATE on the listing, INSERT WHERE NOT EXISTS", "seed.locked"),
        ("d", "(d) check, then insert; no constraint", "seed.unchecked"),
    ):
        await empty(url)
        done = Result(title)
        done.codes, done.seconds = await straight(url, listings, owners, work,
                                                  args.concurrency, approach)
        done.double = await double_bookings(url, table)
        results.append(done)
    if args.through_topology:  # only now: its processes would take CPU from (a) to (d)
        await empty(url)
        with production_topology(url, mongodb_url, name) as stack:
            results.append(await through_topology(args, stack, url, pgdata, listings, owners,
                                                  warmup, work))
    if args.profile:
        await empty(url)
        await profile_in_process(args.profile, url, mongodb_url, name, listings, owners, work)
    return results


async def through_topology(args, stack, url: str, pgdata: Path | None, listings: list,
                           owners: list, warmup: list, work: list) -> Result:
    """(a) again, through nginx with TLS to the two replicas of pets of the production
    topology (two workers each), PgBouncer in transaction mode, `panamia work` relaying."""
    from tests.fixtures.topology import DOMAIN, REPLICAS, WORKERS

    def connect():
        return stack.open_connection("pets")

    host, headers = f"pets.{DOMAIN}", [lines for *_, lines in owners]
    await over_http(connect, host, listings, headers, warmup, args.concurrency)
    await empty(url)
    done = Result(f"(t) (a) through nginx and PgBouncer ({REPLICAS} replicas x {WORKERS} "
                  "workers)")
    meters = topology_meters(stack, "pets", pgdata)
    before = {name: read() for name, read in meters.items()}
    done.codes, done.seconds = await over_http(connect, host, listings, headers, work,
                                               args.concurrency)
    after = {name: read() for name, read in meters.items()}
    done.cpu = {name: after[name] - before[name] for name in meters if after[name] is not None}
    done.double = await double_bookings(url, "bookings")
    return done


async def profile_in_process(count: int, url: str, mongodb_url: str, name: str,
                             listings: list, owners: list, work: list) -> None:
    """`count` bookings one after the other through the pets app in this process (ASGI, no
    HTTP parsing, no relay): CPU per request, then the same under cProfile, by package and
    by function (cProfile inflates small calls: read the shares)."""
    import cProfile
    import json

    import httpx

    from panamia.apps.pets import create_app
    from panamia.resources import Resources
    from panamia.settings import Settings
    from session import profile_report

    settings = Settings(_env_file=None, postgres_url=url, mongodb_url=mongodb_url,
                        mongodb_db=name, auth_secret=SECRET, panamia_env="test",
                        background_work=False)
    resources = Resources.open(settings, "bench")
    owner_id, lines, _ = owners[0]
    headers = dict(line.split(": ", 1) for line in lines.strip().split("\r\n"))
    headers["Content-Type"] = "application/json"
    bodies = [json.dumps({"listingId": listings[i][0], "startDate": start.isoformat(),
                          "endDate": end.isoformat(),
                          "pets": [{"name": "Rex", "species": "dog"}]})
              for i, start, end in work[:3 * count]]
    transport = httpx.ASGITransport(app=create_app(settings, resources))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://pets") as client:
            async def book(body: str) -> int:
                return (await client.post("/bookings", content=body, headers=headers)).status_code

            for body in bodies[:count]:  # warm-up: prepared statements, caches
                await book(body)
            started = time.process_time()
            codes = Counter([await book(body) for body in bodies[count:2 * count]])
            cpu = (time.process_time() - started) / count
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for body in bodies[2 * count:]:
                await book(body)
            profiler.disable()
    finally:
        await resources.close()
    print(f"\nin process, one at a time: {cpu * 1e6:.0f} us CPU per POST /bookings "
          f"({dict(codes)})")
    report = profile_report(profiler, count)
    print(f"under cProfile: {report['total_us_per_request']:.0f} us per request; by package:")
    for package, us in sorted(report["by_package"].items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {us:7.1f} us  {package}")
    print("  functions (own time per request, calls per request):")
    for where, (us, calls) in list(report["functions"].items())[:25]:
        print(f"    {us:7.1f} us  {calls:5.2f}  {where}")


def report(args, results: list[Result]) -> None:
    print(f"\nbookings bench: {args.requests} requests, {args.concurrency} clients at once, "
          f"{args.listings} listings, {WINDOW}-day window, 1-{LONGEST} nights; "
          f"{os.cpu_count()} CPUs shared by server, PostgreSQL and clients")
    print(f"{'approach':64} {'rps':>7} {'accepted':>9} {'refused':>8} {'other':>6} "
          f"{'double bookings':>16}")
    for r in results:
        accepted, refused = r.codes.get("201", 0), r.codes.get("409", 0)
        other = sum(r.codes.values()) - accepted - refused
        print(f"{r.name:64} {r.rps:7.0f} {accepted:9d} {refused:8d} {other:6d} {r.double:16d}")
    a, b, c = results[:3]
    print(f"a/b: {a.rps / b.rps:.2f} (target >= 0.3)   b/c: {b.rps / c.rps:.2f}")
    requests = sum(a.codes.values())
    postgres = (f", PostgreSQL {a.cpu['postgres'] * 1e3 / requests:.2f} ms"
                if a.cpu["postgres"] else "")
    print(f"(a) CPU per request: server {a.cpu['server'] * 1e3 / requests:.2f} ms (target <= 1)"
          f"{postgres}; "
          "the server used "
          f"{a.cpu['server'] / a.seconds:.0%} of a core (load average now "
          f"{os.getloadavg()[0]:.1f}: other work on the machine skews every figure)")
    if len(results) > 4:
        t = results[4]
        server_a = a.cpu["server"] * 1e3 / requests
        server_t, front = (t.cpu[name] * 1e3 / sum(t.codes.values())
                           for name in ("server", "nginx+pgbouncer"))
        print(f"(t)/(a): rps {t.rps / a.rps:.2f}, server CPU per request "
              f"{server_t / server_a:.2f} ({server_a:.2f} -> {server_t:.2f} ms, summed over "
              f"every worker); nginx and PgBouncer use {front:.2f} ms per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--listings", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for (a)")
    parser.add_argument("--through-topology", action="store_true",
                        help="also (a) through nginx, two replicas and PgBouncer: (t)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile N bookings in this process (see profile_in_process)")
    args = parser.parse_args()

    with bench_databases() as dbs:
        report(args, asyncio.run(run(args, dbs.url, dbs.mongodb_url, dbs.name, dbs.scratch,
                                     dbs.pgdata)))


if __name__ == "__main__":
    main()
