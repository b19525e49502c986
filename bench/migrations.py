"""What the deploy machinery costs per migration, next to plain `alembic upgrade head`.

Run: `.venv/bin/python bench/migrations.py [--counts 50 200] [--rounds 3]`

For each N it writes N no-op migrations (a chain, with the house header) into a temp dir,
then per round applies them to a fresh database twice: once with Alembic's own
`command.upgrade(config, "head")` through env.py (one transaction per migration, nothing
else), once with `panamia.schema.deploy.deploy` (ledger read, advisory lock, ledger read
again, a ledger row written inside each migration's transaction). Both run in this
process, load the same scripts and use the same driver; the order alternates between
rounds and the best time of each is kept.

It prints, per N: ms per migration for each, their ratio deploy / alembic (target <= 1.3),
and the median of the rounds' own ratios; then the marginal cost of one more migration,
from the difference between the largest and the smallest N, which leaves out what a deploy
pays once (creating the ledger, reading it before and after taking the lock); then
PostgreSQL round trips per migration of each (counted at the asyncpg protocol, as
bench/session.py does, over one more untimed run): the ratio that holds over a network,
where round trips dominate, and that does not move with the machine's load. It asserts
nothing. Embedded PostgreSQL is started (and stopped) when POSTGRES_URL
is unset; otherwise throw-away databases are created on that server and dropped.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from panamia.db.embedded import EmbeddedPostgres
from panamia.db.postgres import create_engine
from panamia.schema import deploy, migrate

MIGRATION = '''"""No-op migration {i}.

Migration: {name}
Purpose: benchmark
Ticket: N/A
Reversible: Yes
"""

from alembic import op

revision = {name!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def write_chain(directory: Path, count: int) -> None:
    down = None
    for i in range(count):
        name = f"2030{i:010d}_noop_{i}"
        (directory / f"{name}.py").write_text(MIGRATION.format(i=i, name=name, down=down))
        down = name


def database_url(server_url: str, name: str) -> str:
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


async def recreate(server_url: str, name: str, drop_only: bool = False) -> str:
    engine = create_engine(server_url, "bench", isolation_level="AUTOCOMMIT",
                           poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return database_url(server_url, name)


def time_alembic(url: str, directory: Path) -> float:
    started = time.perf_counter()
    command.upgrade(migrate.alembic_config(url, directory), "head")
    return time.perf_counter() - started


def time_deploy(url: str, directory: Path) -> float:
    started = time.perf_counter()
    result = asyncio.run(deploy.deploy(url, directory))
    elapsed = time.perf_counter() - started
    assert result.applied, "deploy applied nothing"
    return elapsed


def measure(server_url: str, count: int, rounds: int) -> tuple[float, float, float]:
    """The best time of each, and the median of each round's ratio deploy / alembic: the two
    runs of a round follow each other, so the machine's load weighs on both alike."""
    best = {"alembic": float("inf"), "deploy": float("inf")}
    ratios = []
    runners = {"alembic": time_alembic, "deploy": time_deploy}
    with tempfile.TemporaryDirectory(prefix="bench-migrations-") as tmp:
        directory = Path(tmp)
        write_chain(directory, count)
        # warm-up: imports, the scripts' bytecode, the server's catalog caches
        url = asyncio.run(recreate(server_url, "bench_migrations_warmup"))
        time_alembic(url, directory)
        asyncio.run(recreate(server_url, "bench_migrations_warmup", drop_only=True))
        for round_ in range(rounds):
            order = ["alembic", "deploy"] if round_ % 2 == 0 else ["deploy", "alembic"]
            took = {}
            for kind in order:
                name = f"bench_migrations_{kind}"
                url = asyncio.run(recreate(server_url, name))
                took[kind] = runners[kind](url, directory)
                best[kind] = min(best[kind], took[kind])
                asyncio.run(recreate(server_url, name, drop_only=True))
            ratios.append(took["deploy"] / took["alembic"])
    return best["alembic"], best["deploy"], statistics.median(ratios)


def round_trips(server_url: str, count: int) -> dict[str, tuple[float, int]]:
    """Round trips per migration, and connections opened, of each, after `count_round_trips`
    wrapped asyncpg."""
    from session import count_round_trips

    counter = count_round_trips()
    totals = {}
    with tempfile.TemporaryDirectory(prefix="bench-migrations-") as tmp:
        directory = Path(tmp)
        write_chain(directory, count)
        for kind, runner in (("alembic", time_alembic), ("deploy", time_deploy)):
            url = asyncio.run(recreate(server_url, f"bench_migrations_{kind}"))
            counter.take()
            runner(url, directory)
            taken = counter.take()
            totals[kind] = taken["total"] / count, taken["connections"]
            asyncio.run(recreate(server_url, f"bench_migrations_{kind}", drop_only=True))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server_url = os.environ.get("POSTGRES_URL")
    embedded = None
    data_dir = None
    if not server_url:
        data_dir = tempfile.TemporaryDirectory(prefix="bench-migrations-pg-")
        embedded = EmbeddedPostgres(Path(data_dir.name))
        server_url = embedded.start(database="postgres")
    try:
        print(f"{'N':>5}  {'alembic ms/mig':>14}  {'deploy ms/mig':>13}  {'ratio':>6}  "
              f"{'median':>6}")
        totals = {}
        for count in args.counts:
            alembic_s, deploy_s, median = measure(server_url, count, args.rounds)
            totals[count] = alembic_s, deploy_s
            print(f"{count:>5}  {alembic_s / count * 1000:>14.2f}  "
                  f"{deploy_s / count * 1000:>13.2f}  {deploy_s / alembic_s:>6.2f}  "
                  f"{median:>6.2f}")
        print("ratio = deploy / plain `alembic upgrade head` on the same migrations "
              f"(target <= 1.3), best of {args.rounds} rounds each; median = the median of "
              "the rounds' own ratios (steadier on a loaded machine)")
        low, high = min(totals), max(totals)
        if high > low:
            alembic_ms, deploy_ms = (
                (totals[high][i] - totals[low][i]) / (high - low) * 1000 for i in (0, 1))
            print(f"marginal ({low} -> {high}): alembic {alembic_ms:.2f} ms/mig, deploy "
                  f"{deploy_ms:.2f} ms/mig, ratio {deploy_ms / alembic_ms:.2f}; fixed cost "
                  f"per run: alembic {(totals[low][0] * 1000 - low * alembic_ms):.0f} ms, "
                  f"deploy {(totals[low][1] * 1000 - low * deploy_ms):.0f} ms")
        print(f"\n{'N':>5}  {'alembic RT/mig':>14}  {'deploy RT/mig':>13}  {'ratio':>6}  "
              "connections alembic/deploy")
        for count in args.counts:
            counted = round_trips(server_url, count)
            (alembic_rt, alembic_conns), (deploy_rt, deploy_conns) = (
                counted["alembic"], counted["deploy"])
            print(f"{count:>5}  {alembic_rt:>14.2f}  {deploy_rt:>13.2f}  "
                  f"{deploy_rt / alembic_rt:>6.2f}  {alembic_conns}/{deploy_conns}")
        print("RT = PostgreSQL round trips (connection start-up excluded), whole run / N")
    finally:
        if embedded:
            embedded.stop()
            data_dir.cleanup()


if __name__ == "__main__":
    main()
