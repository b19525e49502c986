"""What checking the session cookie costs: anonymous vs authenticated requests, one server.

Run: `.venv/bin/python bench/session.py [--seconds 5] [--concurrency 32] [--rounds 2] [--profile]
[--through-topology]`

It starts embedded PostgreSQL and SecantusDB when POSTGRES_URL / MONGODB_URL are unset (else
it makes a throw-away database on the given servers and drops it at the end), migrates it,
creates one user with one session, and serves an app built by `panamia.web.create_service`
with two no-op routes under a real uvicorn (one worker, its own process): `/anon` (no auth)
and `/authed` (depends on `CurrentUser`). A load loop in this process keeps `--concurrency`
keep-alive HTTP/1.1 connections busy over loopback for `--seconds` per phase, anonymous and
authenticated phases alternating `--rounds` times. It prints figures and asserts nothing.

How to read them:

* rps: completed requests per second per route; `ratio` = authed / anon (target >= 0.5).
  Both routes pay the same middleware, CSRF dependency and JSON response, so the gap is the
  cookie check: an HMAC of the token, a pool checkout, one query, the Principal.
* p50 / p99: latency seen by the client, including queueing behind `--concurrency`.
* cpu: share of one core used by the server process, PostgreSQL (embedded only) and this load
  generator. The server near 100% means it is the bottleneck, as intended. The machine's
  cores are shared by all three and by whatever else runs: the load average is printed, and
  `server CPU per request` (server CPU time / requests) is the figure that other load skews
  least. Its ratio is the one to compare between runs on a busy machine.
* PostgreSQL round trips per authenticated request (target 1): counted in the server at the
  asyncpg protocol. Every exchange that sends messages and waits for the server's answer is
  one round trip: a simple query (how BEGIN/COMMIT/ROLLBACK travel), a prepare, a
  bind+execute, a statement close, a COPY. (Counting costs the server a few microseconds
  per round trip.) Connections opened are counted on their own line;
  each costs a start-up exchange and a server process on top. Measured over the
  authenticated load phases and over `--count` sequential requests after warm-up; the
  breakdown names the statements. Under load, the first use of each pooled connection after
  an anonymous phase shows a ping (BEGIN, an empty query, ROLLBACK): the pool pings a
  connection that has been idle for more than a second before handing it out.
* `--profile` adds one more phase per route with the server under cProfile (CPU time) and
  prints where the server's time goes per request: by package and by function, and what
  authed adds to anon. cProfile inflates small calls, so read the shares, not the totals.
* `--through-topology`: once the direct figures are measured, starts the production
  topology of tests/fixtures/topology.py on the same databases (nginx with TLS, two
  replicas of main with two workers each, PgBouncer in transaction mode, `panamia work`)
  and runs the same phases, with the same load loop over TLS, against `GET
  /api/auth/session` on main: `{}` without the cookie (no query), the cookie check and the
  user with it, the production route nearest to /anon and /authed. It prints those figures
  beside the direct ones and topology/direct for rps, p50, p99 and server CPU per request
  (summed over every worker), with the CPU nginx and PgBouncer use per request.
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from databases import bench_databases

SECRET = "bench-secret-" + "b" * 40
COOKIE = "authjs.session-token"


# --------------------------------------------------------------------------------------
# Server side (runs in its own process: `bench/session.py --serve PORT`)
# --------------------------------------------------------------------------------------

# asyncpg protocol coroutines that each send messages ending in Sync (or a simple Query)
# and wait for ReadyForQuery: one network round trip apiece.
_EXCHANGES = ("query", "prepare", "bind_execute", "bind_execute_many", "bind", "execute",
              "close_portal", "close_statement", "copy_in", "copy_out")


class RoundTrips:
    def __init__(self):
        self.by_kind: Counter = Counter()
        self.connections = 0

    def take(self) -> dict:
        taken = {
            "total": sum(self.by_kind.values()),
            "connections": self.connections,
            "by_kind": {f"{kind}: {sql}": n for (kind, sql), n in self.by_kind.most_common()},
        }
        self.by_kind.clear()
        self.connections = 0
        return taken


def _statement_text(kind: str, args: tuple) -> str:
    if kind == "query":
        text = args[0]
    elif kind == "prepare":
        text = args[1]
    else:
        text = getattr(args[0], "query", "") if args else ""
    text = " ".join(str(text).split())
    return text if len(text) <= 90 else text[:87] + "..."


class _CountingProtocol:
    """Stands in for an asyncpg connection's protocol object and counts its exchanges."""

    def __init__(self, inner, counter: RoundTrips):
        self._inner = inner
        self._counter = counter

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name not in _EXCHANGES:
            return attr
        counter = self._counter

        def exchange(*args, **kwargs):
            # asyncpg passes a statement's state by keyword to some of these.
            shown = args or (kwargs.get("state"),)
            counter.by_kind[(name, _statement_text(name, shown))] += 1
            return attr(*args, **kwargs)

        return exchange


def count_round_trips() -> RoundTrips:
    """Wrap every asyncpg connection made from now on in this process."""
    import asyncpg.connection

    counter = RoundTrips()
    original_init = asyncpg.connection.Connection.__init__

    def init(self, protocol, *args, **kwargs):
        counter.connections += 1
        original_init(self, _CountingProtocol(protocol, counter), *args, **kwargs)

    asyncpg.connection.Connection.__init__ = init
    return counter


def package_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if "panamia" in parts:
        return "panamia"
    if "lib" in parts:
        return "stdlib (" + (Path(filename).stem if Path(filename).parent.name != "asyncio"
                             else "asyncio") + ")"
    return filename


def profile_report(profiler: cProfile.Profile, requests: int) -> dict:
    stats = pstats.Stats(profiler)
    by_package: Counter = Counter()
    functions = []
    total = 0.0
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        by_package[package_of(filename)] += tottime
        total += tottime
        functions.append((tottime, ncalls, f"{package_of(filename)}:{Path(filename).name}"
                                            f":{line}({name})"))
    functions.sort(reverse=True)
    per_request = 1e6 / max(requests, 1)
    return {
        "requests": requests,
        "total_us_per_request": total * per_request,
        "by_package": {p: t * per_request for p, t in by_package.items()},
        "functions": {where: (t * per_request, n / max(requests, 1))
                      for t, n, where in functions if t * per_request >= 0.5},
    }


def serve(port: int) -> None:
    import uvicorn
    from fastapi import APIRouter

    from panamia.identity.dependencies import CurrentUser
    from panamia.settings import Settings
    from panamia.sidecar.registry import ensure_indexes
    from panamia.web import create_service

    counter = count_round_trips()
    profiler: list[cProfile.Profile] = []

    routes = APIRouter()

    @routes.get("/anon")
    async def anon() -> dict:
        return {"ok": True}

    @routes.get("/authed")
    async def authed(user: CurrentUser) -> dict:
        return {"ok": True}

    control = APIRouter(prefix="/_bench")

    @control.get("/round-trips")
    async def round_trips() -> dict:
        """Counts since the last call, then starts again from zero."""
        return counter.take()

    @control.get("/profile/start")
    async def profile_start() -> dict:
        profiler[:] = [cProfile.Profile(time.process_time)]  # CPU time: other load can't skew it
        profiler[0].enable()
        return {}

    @control.get("/profile/stop")
    async def profile_stop(requests: int) -> dict:
        profiler[0].disable()
        return profile_report(profiler.pop(), requests)

    settings = Settings(_env_file=None)
    app = create_service(settings, title="session bench", process_name="bench",
                         routers=[routes, control], ensure_indexes=ensure_indexes)
    uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning",
    )).run()


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def seed(settings) -> str:
    """One user with one fresh session (no expiry slide during the run); the raw token."""
    from sqlalchemy import insert

    from panamia.identity import service
    from panamia.identity.models import User, new_id
    from panamia.resources import Resources

    resources = Resources.open(settings, "bench")
    try:
        user_id = new_id()
        async with resources.db.begin() as db:
            await db.execute(insert(User).values(id=user_id, email="bench@example.org"))
            new = await service.start_session(db, resources, user_id)
        return new.token
    finally:
        await resources.close()


# --------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------

@dataclass
class Phase:
    route: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    round_trips: dict = field(default_factory=dict)

    def add(self, other: "Phase") -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies
        for key, value in other.cpu.items():
            self.cpu[key] = self.cpu.get(key, 0.0) + value * other.seconds
        for key in ("total", "connections"):
            self.round_trips[key] = self.round_trips.get(key, 0) + other.round_trips.get(key, 0)
        kinds = Counter(self.round_trips.get("by_kind", {}))
        kinds.update(other.round_trips.get("by_kind", {}))
        self.round_trips["by_kind"] = dict(kinds)

    def finish(self) -> "Phase":
        self.cpu = {k: v / self.seconds for k, v in self.cpu.items()}
        return self

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def request_bytes(path: str, cookie: str | None, host: str = "127.0.0.1",
                  cookie_name: str = COOKIE) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    if cookie:
        lines.append(f"Cookie: {cookie_name}={cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def loopback(port: int) -> Callable[[], Awaitable[tuple]]:
    """Opens plain TCP connections to a server on this machine."""
    return lambda: asyncio.open_connection("127.0.0.1", port)


async def one_connection(connect, request: bytes, deadline: float, phase: Phase) -> None:
    reader, writer = await connect()
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    clock = time.perf_counter
    latencies = phase.latencies
    try:
        while (started := clock()) < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            at = head.lower().find(b"content-length:")
            if at < 0:
                raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
            length = int(head[at + 15:head.index(b"\r\n", at)])
            await reader.readexactly(length)
            latencies.append(clock() - started)
            phase.requests += 1
            if head[9:12] != b"200":
                phase.errors += 1
    finally:
        writer.close()


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(pgdata: Path | None) -> float | None:
    """CPU of the embedded postmaster, its live children and the children it has reaped
    (None when POSTGRES_URL names an external server)."""
    if pgdata is None:
        return None
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        fields = _stat(postmaster)
    except (OSError, ValueError, IndexError):
        return None
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = stat.read_text().rsplit(")", 1)[1].split()
            if int(child[1]) == postmaster:
                ticks += int(child[11]) + int(child[12])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


async def load(connect, path: str, request: bytes, seconds: float, concurrency: int,
               meters: dict[str, Callable[[], float | None]]) -> Phase:
    """`concurrency` connections sending `request` for `seconds`; `meters` read CPU seconds."""
    phase = Phase(path)
    before = {name: read() for name, read in meters.items()}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(one_connection(connect, request, deadline, phase)
                           for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - started
    after = {name: read() for name, read in meters.items()}
    phase.cpu = {name: (after[name] - before[name]) / phase.seconds for name in meters
                 if before[name] is not None and after[name] is not None}
    return phase


def load_generator_cpu_seconds() -> float:
    return sum(os.times()[:2])


async def control(port: int, path: str) -> dict:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        response = await client.get(path)
        response.raise_for_status()
        return response.json()


async def sequential(port: int, path: str, cookie: str, count: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = request_bytes(path, cookie)
    ok = 0
    for _ in range(count):
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        at = head.lower().find(b"content-length:")
        await reader.readexactly(int(head[at + 15:head.index(b"\r\n", at)]))
        ok += head[9:12] == b"200"
    writer.close()
    return ok


async def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the bench server exited with status {process.returncode}")
        try:
            await control(port, "/anon")
            return
        except Exception:  # noqa: BLE001 - not listening yet (httpx wraps the refusal)
            await asyncio.sleep(0.2)
    raise SystemExit(f"the bench server did not answer on port {port} in {timeout}s")


# --------------------------------------------------------------------------------------
# Through the production topology (--through-topology)
# --------------------------------------------------------------------------------------

@contextmanager
def production_topology(url: str, mongodb_url: str, mongodb_db: str) -> Iterator:
    """The stack of tests/fixtures/topology.py on the bench's databases, with a real SMTP
    server that keeps what it is sent; yields its `Topology`."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.fixtures.servers import Mailbox, smtp_relay
    from tests.fixtures.topology import topology

    with smtp_relay(Mailbox()) as smtp, topology(url, mongodb_url, mongodb_db, smtp.port,
                                                  SECRET) as stack:
        yield stack


def with_children(roots: list[int]) -> list[int]:
    """These processes and their children."""
    found = list(roots)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(_stat(int(stat.parent.name))[1]) in roots:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def total_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU so far of these processes (those that have exited count nothing)."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def replica_pids(stack, service: str) -> list[int]:
    """The service's replicas and their uvicorn workers."""
    return with_children([process.pid for name, process in stack.processes.items()
                          if name.startswith(f"{service}-")])


def proxy_and_pooler_pids(stack) -> list[int]:
    """nginx (master and worker) and PgBouncer: the processes started with a path in the
    stack's scratch directory, and their children."""
    roots = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(stack.scratch).encode() in cmdline.read_bytes():
                roots.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    return with_children(roots)


def topology_meters(stack, service: str, pgdata: Path | None) -> dict:
    servers, front = replica_pids(stack, service), proxy_and_pooler_pids(stack)
    return {"server": lambda: total_cpu_seconds(servers),
            "nginx+pgbouncer": lambda: total_cpu_seconds(front),
            "postgres": lambda: postgres_cpu_seconds(pgdata),
            "load generator": load_generator_cpu_seconds}


async def topology_phases(args, stack, cookie: str, pgdata: Path | None) -> tuple[Phase, Phase]:
    """The direct phases again against `GET /api/auth/session` on main through nginx: `{}`
    without the cookie (no query), the cookie check and the user with it; the production
    route nearest to /anon and /authed."""
    from tests.fixtures.topology import DOMAIN

    meters = topology_meters(stack, "main", pgdata)
    host = f"main.{DOMAIN}"

    def phase(name: str, seconds: float):
        request = request_bytes("/api/auth/session", cookie if name == "/authed" else None,
                                host=host, cookie_name=f"__Secure-{COOKIE}")
        return load(lambda: stack.open_connection("main"), name, request, seconds,
                    args.concurrency, meters)

    for name in ("/anon", "/authed"):
        warm = await phase(name, args.warmup)
        if warm.errors:
            raise SystemExit(f"through the topology, {warm.errors} of {warm.requests} "
                             f"{name} requests did not answer 200")
    anon, authed = Phase("/anon"), Phase("/authed")
    for _ in range(args.rounds):
        for total, name in ((anon, "/anon"), (authed, "/authed")):
            total.add(await phase(name, args.seconds))
    return anon.finish(), authed.finish()


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def print_phases(*phases: Phase) -> None:
    print(f"{'route':8} {'requests':>9} {'errors':>6} {'rps':>9} {'p50':>10} {'p99':>10}  cpu")
    for done in phases:
        cpu = ", ".join(f"{name} {share:.0%}" for name, share in done.cpu.items())
        print(f"{done.route:8} {done.requests:9d} {done.errors:6d} {done.rps:9.0f} "
              f"{ms(done.percentile(0.50)):>10} {ms(done.percentile(0.99)):>10}  {cpu}")


def print_topology(direct: tuple[Phase, Phase], through: tuple[Phase, Phase]) -> None:
    print("\nthrough the topology: GET /api/auth/session on main (no cookie for /anon), https "
          "via nginx to 2 replicas x 2 workers, PgBouncer in transaction mode, `panamia work` "
          "running; same connections, rounds and seconds")
    print_phases(*through)
    ratio = through[1].rps / through[0].rps if through[0].rps else float("nan")
    print(f"ratio authed/anon: {ratio:.2f}")
    print("topology/direct     rps    p50    p99  server CPU/req  (server = every worker)")
    for one, other in zip(direct, through):
        cpu_direct = one.cpu["server"] / one.rps
        cpu_through = other.cpu["server"] / other.rps
        front = other.cpu.get("nginx+pgbouncer", 0.0) * 1e6 / other.rps
        print(f"{one.route:8} {other.rps / one.rps:14.2f} "
              f"{other.percentile(0.5) / one.percentile(0.5):6.2f} "
              f"{other.percentile(0.99) / one.percentile(0.99):6.2f} "
              f"{cpu_through / cpu_direct:15.2f}  ({cpu_direct * 1e6:.0f} -> "
              f"{cpu_through * 1e6:.0f} us; nginx+PgBouncer {front:.0f} us per request)")


def print_round_trips(title: str, taken: dict, requests: int) -> None:
    per = taken["total"] / requests if requests else float("nan")
    print(f"{title}: {taken['total']} round trips / {requests} requests = {per:.3f} per request"
          f"; connections opened: {taken['connections']}")
    for kind, n in sorted(taken["by_kind"].items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {n / requests:7.3f}/req  {kind}")


def print_profiles(anon: dict, authed: dict) -> None:
    """Own time per request under cProfile: each route's, and what authed adds to anon."""
    print(f"\nprofile (cProfile, own time per request; cProfile inflates small calls): "
          f"anon {anon['total_us_per_request']:.0f} us, authed "
          f"{authed['total_us_per_request']:.0f} us")
    print("  by package             anon     authed      added")
    packages = sorted(set(anon["by_package"]) | set(authed["by_package"]),
                      key=lambda p: -authed["by_package"].get(p, 0))
    for package in packages[:14]:
        a, b = anon["by_package"].get(package, 0), authed["by_package"].get(package, 0)
        print(f"    {package[:20]:20} {a:7.1f} {b:10.1f} {b - a:10.1f} us")
    print("  functions adding the most (authed - anon, own time; calls/req counts resumptions)")
    added = []
    for where, (b, calls) in authed["functions"].items():
        a = anon["functions"].get(where, (0.0, 0.0))[0]
        added.append((b - a, b, calls, where))
    for delta, b, calls, where in sorted(added, reverse=True)[:22]:
        print(f"    {delta:7.1f} us  (authed {b:6.1f} us, {calls:5.2f} calls/req)  {where}")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

async def run(args, port: int, cookie: str, process: subprocess.Popen,
              pgdata: Path | None, start_topology: Callable | None) -> None:
    await wait_until_serving(port, process)
    probe = await sequential(port, "/authed", cookie, 1)
    if probe != 1:
        raise SystemExit("GET /authed with the seeded session cookie did not answer 200")

    meters = {"server": lambda: cpu_seconds(process.pid),
              "postgres": lambda: postgres_cpu_seconds(pgdata),
              "load generator": load_generator_cpu_seconds}

    def phase(path: str, seconds: float, concurrency: int):
        request = request_bytes(path, cookie if path == "/authed" else None)
        return load(loopback(port), path, request, seconds, concurrency, meters)

    # Warm-up: fills the pool, prepares the statement on every connection, warms caches.
    for path in ("/anon", "/authed"):
        await phase(path, args.warmup, args.concurrency)
    await control(port, "/_bench/round-trips")

    anon, authed = Phase("/anon"), Phase("/authed")
    for _ in range(args.rounds):
        for total, path in ((anon, "/anon"), (authed, "/authed")):
            done = await phase(path, args.seconds, args.concurrency)
            done.round_trips = await control(port, "/_bench/round-trips")
            total.add(done)
    anon.finish()
    authed.finish()

    await sequential(port, "/authed", cookie, 20)
    await control(port, "/_bench/round-trips")
    ok = await sequential(port, "/authed", cookie, args.count)
    counted = await control(port, "/_bench/round-trips")

    profiles = []
    if args.profile:
        for path in ("/anon", "/authed"):
            await control(port, "/_bench/profile/start")
            done = await phase(path, args.seconds, args.concurrency)
            profiles.append((path, await control(
                port, f"/_bench/profile/stop?requests={done.requests}")))

    through = None
    if start_topology:  # only now: its processes would take CPU from the direct phases
        with start_topology() as stack:
            through = await topology_phases(args, stack, cookie, pgdata)

    print(f"\nsession bench: {args.rounds} x {args.seconds:g} s per route, "
          f"{args.concurrency} keep-alive connections, 1 uvicorn worker, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end (other work on the machine "
          f"skews the figures)")
    print_phases(anon, authed)
    ratio = authed.rps / anon.rps if anon.rps else float("nan")
    print(f"ratio authed/anon: {ratio:.2f} (target >= 0.5)")
    cpu_anon = anon.cpu["server"] * 1e6 / anon.rps
    cpu_authed = authed.cpu["server"] * 1e6 / authed.rps
    print(f"server CPU per request: anon {cpu_anon:.0f} us, authed {cpu_authed:.0f} us "
          f"(ratio {cpu_anon / cpu_authed:.2f}); the cookie check costs "
          f"{cpu_authed - cpu_anon:.0f} us of server CPU. Steadier than rps on a busy machine.")
    print()
    print_round_trips("PostgreSQL, anon under load", anon.round_trips, anon.requests)
    print_round_trips("PostgreSQL, authed under load", authed.round_trips, authed.requests)
    print_round_trips(f"PostgreSQL, authed sequential ({ok}/{args.count} ok)", counted,
                      args.count)
    print(f"round trips per authenticated request: {counted['total'] / args.count:.2f} "
          f"(target 1)")
    if profiles:
        print_profiles(profiles[0][1], profiles[1][1])
    if through:
        print_topology((anon, authed), through)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase (default 5)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="keep-alive connections (default 32)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="anon/authed phase pairs, alternating (default 2)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per route")
    parser.add_argument("--count", type=int, default=500,
                        help="sequential authed requests for the round-trip count")
    parser.add_argument("--profile", action="store_true",
                        help="profile the server with cProfile in an extra phase per route")
    parser.add_argument("--through-topology", action="store_true",
                        help="also run the phases through nginx, replicas and PgBouncer")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    from panamia.db.embedded import free_port
    from panamia.settings import Settings

    with bench_databases() as dbs:
        url, mongodb_url, name, scratch = dbs.url, dbs.mongodb_url, dbs.name, dbs.scratch
        port = free_port()
        env = {**os.environ, "POSTGRES_URL": url, "MONGODB_URL": mongodb_url,
               "MONGODB_DB": name, "AUTH_SECRET": SECRET, "PANAMIA_ENV": "test",
               "AUTH_URL": f"http://127.0.0.1:{port}", "PANAMIA_DATA_DIR": str(scratch)}
        settings = Settings(_env_file=None, postgres_url=url, mongodb_url=mongodb_url,
                            mongodb_db=name, auth_secret=SECRET, panamia_env="test")
        cookie = asyncio.run(seed(settings))
        start_topology = (partial(production_topology, url, mongodb_url, name)
                          if args.through_topology else None)
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(port)], env=env,
        )
        try:
            try:
                import uvloop
                uvloop.run(run(args, port, cookie, process, dbs.pgdata, start_topology))
            except ImportError:
                asyncio.run(run(args, port, cookie, process, dbs.pgdata, start_topology))
        finally:
            stop(process)


if __name__ == "__main__":
    main()
