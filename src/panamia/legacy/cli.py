"""`panamia legacy plan|run`: move NextAuth's MongoDB auth data into PostgreSQL.

Wire into the top-level CLI with `app.add_typer(legacy_app, name="legacy")`; until then
`python -m panamia.legacy.cli …`.

Phase 3 is `panamia.legacy.refs.run_refs`: `run` calls it after phase 2 (`--phase all`) or
alone (`--phase refs`) and prints its checkpoints (steps `refs:…`) in the same summary table.
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError, InterfaceError

from panamia.cli_support import fail
from panamia.db.mongo import create_client
from panamia.db.postgres import create_engine, create_sessionmaker
from panamia.legacy import auth, progress, refs, report
from panamia.legacy.plan import plan_auth
from panamia.legacy.progress import Checkpoint, Move
from panamia.legacy.sources import USERS
from panamia.settings import Settings, get_settings

legacy_app = typer.Typer(
    help="Move NextAuth's MongoDB auth data into PostgreSQL (seed phases 2 and 3).",
    no_args_is_help=True)
console = Console()
T = TypeVar("T")


class Phase(str, Enum):
    auth = "auth"
    refs = "refs"
    all = "all"


class Refused(Exception):
    pass


MongoUrl = Annotated[str | None, typer.Option(help="Legacy MongoDB; default MONGODB_URL")]
MongoDb = Annotated[str | None, typer.Option(help="Legacy database; default MONGODB_DB")]
Prefix = Annotated[str, typer.Option(help="Prefix of NextAuth's collections")]
BatchSize = Annotated[int, typer.Option(min=1, max=10_000, help="Records per transaction")]
RefOption = Annotated[list[str] | None, typer.Option(
    "--ref", help="One more reference to rewrite, collection.path in dot notation through "
                  "arrays (articles.coAuthors.userId); repeatable")]
KeepRoleOption = Annotated[list[str] | None, typer.Option(
    "--keep-role", help="A legacy role imported as it is, e.g. admin (exact value; "
                        "repeatable); every other role becomes user")]
ROLE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
AliasOption = Annotated[list[str] | None, typer.Option(
    "--alias", help="COLLECTION:FIELD, e.g. users:email: ids of the app's own user collection "
                    "resolve to the user with the same email (or screenname); repeatable")]


def _secret(settings: Settings) -> str:
    if settings.auth_secret:
        return settings.auth_secret
    kept = settings.panamia_data_dir / "auth_secret"
    if not settings.is_production and kept.exists() and kept.read_text().strip():
        return kept.read_text().strip()  # the one `panamia dev` uses; read, never created
    raise fail("set AUTH_SECRET to the apps' value: sessions are stored as HMACs keyed by "
                "it, so another secret would sign everyone out")


class RichTicker:
    def __init__(self, bars: Progress):
        self.bars, self.tasks = bars, {}

    def start(self, step: str, total: int | None, done: int) -> None:
        self.tasks[step] = self.bars.add_task(step, total=max(total or 0, done) or None,
                                              completed=done)

    def advance(self, step: str, n: int) -> None:
        self.bars.advance(self.tasks[step], n)


async def _require_users_collection(mongo, prefix: str) -> None:
    names = await mongo.list_collection_names()
    if f"{prefix}{USERS}" not in names:
        found = sorted(n for n in names if n.endswith(USERS)) or ["none"]
        raise Refused(f"no collection {prefix}{USERS} in MongoDB database {mongo.name} "
                      f"(collections ending in {USERS}: {', '.join(found)}); "
                      "check --mongo-db and --prefix")


def _keep_roles(names: list[str] | None) -> frozenset[str]:
    for name in names or ():
        if not ROLE.fullmatch(name):
            raise fail(f"--keep-role {name!r}: a role is 1 to 32 of a-z 0-9 _ -, starting "
                        "with a letter")
    return frozenset(names or ())


def _with_move(mongo_url: str | None, mongo_db: str | None, prefix: str, batch_size: int,
               use: Callable[[Move], Awaitable[T]], *, reads_phase2: bool = False,
               keep_roles: frozenset[str] = frozenset()) -> T:
    """Open PostgreSQL and the legacy MongoDB, run `use` with progress bars, close them.
    `reads_phase2`: refuse when `<prefix>users` is missing (a wrong --mongo-db or --prefix
    would otherwise read nothing and report success)."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise fail(f"the environment does not hold valid settings: {exc}") from None
    mongo_url = mongo_url or settings.mongodb_url
    if not settings.postgres_url or not mongo_url:
        raise fail("set POSTGRES_URL, and MONGODB_URL or --mongo-url")
    secret = _secret(settings)

    async def main() -> T:
        engine = create_engine(settings.postgres_url, "cli")
        client = create_client(mongo_url, "cli")
        mongo = client[mongo_db or settings.mongodb_db]
        try:
            if reads_phase2:
                await _require_users_collection(mongo, prefix)
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bars:
                return await use(Move(db=create_sessionmaker(engine), mongo=mongo,
                                      secret=secret, prefix=prefix, batch_size=batch_size,
                                      ticker=RichTicker(bars), keep_roles=keep_roles))
        finally:
            await engine.dispose()
            await client.close()

    try:
        return asyncio.run(main())
    except (Refused, auth.CheckpointsLost) as exc:
        raise fail(str(exc)) from None
    except ConnectionFailure as exc:
        raise fail(f"MongoDB is unreachable: {exc}") from None
    except (InterfaceError, DBAPIError, OSError) as exc:
        raise fail(f"PostgreSQL is unreachable or not migrated (`panamia db deploy`): {exc}"
                    ) from None


def _ordered(checkpoints: list[Checkpoint]) -> list[Checkpoint]:
    rank = {name: i for i, name in enumerate(auth.STEP_NAMES)}
    return sorted(checkpoints, key=lambda cp: (rank.get(cp.step, len(rank)), cp.step))


def _print_summary(checkpoints: list[Checkpoint], title: str) -> None:
    console.print(report.summary_table(checkpoints, title))
    for group, heading in (("reasons", "rejected, by reason"), ("notes", "notes"),
                           ("roles", "legacy roles seen -> what they became")):
        if table := report.detail_table(checkpoints, group, heading):
            console.print(table)


@legacy_app.command("plan")
def plan_command(
    mongo_url: MongoUrl = None, mongo_db: MongoDb = None, prefix: Prefix = "nextauth_",
    batch_size: BatchSize = progress.DEFAULT_BATCH_SIZE, keep_role: KeepRoleOption = None,
) -> None:
    """Read everything and report what `run --phase auth` would do; write nothing anywhere."""
    planned = _with_move(mongo_url, mongo_db, prefix, batch_size, plan_auth, reads_phase2=True,
                         keep_roles=_keep_roles(keep_role))
    _print_summary(planned, "plan: what `run --phase auth` would do")
    console.print("nothing was written")
    raise typer.Exit(0 if all(report.adds_up(cp) is not False for cp in planned) else 1)


@legacy_app.command("run")
def run_command(
    phase: Annotated[Phase, typer.Option(help="auth: phase 2; refs: phase 3")] = Phase.all,
    batch_size: BatchSize = progress.DEFAULT_BATCH_SIZE,
    rejects: Annotated[Path, typer.Option(help="Reject report (JSON lines), rewritten whole "
                                               "from legacy_rejects at the end")] = Path(
        "legacy-rejects.jsonl"),
    mongo_url: MongoUrl = None, mongo_db: MongoDb = None, prefix: Prefix = "nextauth_",
    ref: RefOption = None, alias: AliasOption = None, keep_role: KeepRoleOption = None,
) -> None:
    """Run the move; rerun after any failure or kill, it resumes at its last checkpoint."""
    keep_roles = _keep_roles(keep_role)
    with_refs = phase is not Phase.auth
    if with_refs:
        _check_refs(ref, alias)

    async def go(move: Move) -> tuple[list[Checkpoint], int]:
        if phase in (Phase.auth, Phase.all):
            await auth.run_auth(move)
        if with_refs:
            await refs.run_refs(move.mongo, move.db, batch_size=move.batch_size,
                                ticker=move.ticker, refs=ref or (), aliases=alias or ())
        written = await report.write_rejects(move.db, rejects)
        async with move.db() as session:
            return _ordered(await progress.load_all(session)), written

    checkpoints, written = _with_move(mongo_url, mongo_db, prefix, batch_size, go,
                                      reads_phase2=phase is not Phase.refs,
                                      keep_roles=keep_roles)
    _print_summary(checkpoints, "legacy move")
    console.print(f"{written} rejected record(s) in {escape(str(rejects))} "
                  "(and the legacy_rejects table)", soft_wrap=True)
    raise typer.Exit(0 if all(report.adds_up(cp) is not False for cp in checkpoints) else 1)


# --- phase 3's other commands: rollback-refs, verify, finalize ---

def _check_refs(ref: list[str] | None, alias: list[str] | None) -> None:
    try:
        refs.paths_for(ref or ())
        [refs.Alias.parse(a) for a in alias or ()]
    except ValueError as exc:
        raise fail(str(exc)) from None


@legacy_app.command("rollback-refs")
def rollback_refs_command(
    ref: RefOption = None, batch_size: BatchSize = progress.DEFAULT_BATCH_SIZE,
    mongo_url: MongoUrl = None, mongo_db: MongoDb = None, prefix: Prefix = "nextauth_",
) -> None:
    """Put the legacy references back from `_legacyRefs` and remove it (undoes phase 3)."""
    _check_refs(ref, None)
    counts = _with_move(mongo_url, mongo_db, prefix, batch_size, lambda move: refs.rollback_refs(
        move.mongo, move.db, refs=ref or (), batch_size=move.batch_size))
    console.print(f"{counts['documents']} document(s), {counts['restored']} reference path(s) "
                  f"restored, {counts['changedSince']} left (their values changed in number "
                  "since; still under _legacyRefs)")
    raise typer.Exit(1 if counts["changedSince"] else 0)


@legacy_app.command("verify")
def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
    sample: Annotated[int, typer.Option(min=0, help="Legacy documents compared per "
                                                    "collection")] = 50,
    ref: RefOption = None, mongo_url: MongoUrl = None, mongo_db: MongoDb = None,
    prefix: Prefix = "nextauth_",
) -> None:
    """Check the move is complete and faithful; exit 1 on any mismatch."""
    from panamia.legacy import verify

    _check_refs(ref, None)
    result = _with_move(mongo_url, mongo_db, prefix, progress.DEFAULT_BATCH_SIZE,
                        lambda move: verify.verify(move.mongo, move.db, prefix=move.prefix,
                                                   secret=move.secret, sample=sample,
                                                   refs=ref or ()))
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2, default=str))
        raise typer.Exit(0 if result.ok else 1)
    table = Table("check", "state", "figures", title="legacy verify")
    for check in result.checks:
        table.add_row(check.name, "[green]ok[/green]" if check.ok else
                      f"[red]{check.problem_count} problem(s)[/red]",
                      ", ".join(f"{k} {v}" for k, v in check.figures.items()))
    console.print(table)
    for check in result.checks:
        for problem in check.problems:
            console.print(f"{escape(check.name)}: {escape(problem)}", soft_wrap=True)
    console.print("[green]verified[/green]" if result.ok else "[red]mismatches[/red]")
    raise typer.Exit(0 if result.ok else 1)


@legacy_app.command("finalize")
def finalize_command(
    archive: Annotated[Path, typer.Option(help="Directory for the archive (empty or new)")],
    sample: Annotated[int, typer.Option(min=0, help="As verify's --sample")] = 50,
    mongo_url: MongoUrl = None, mongo_db: MongoDb = None, prefix: Prefix = "nextauth_",
) -> None:
    """After a passing verify: archive the NextAuth collections to DIR, check the archive
    reads back, then drop them."""
    from panamia.legacy import finalize

    try:
        manifest = _with_move(mongo_url, mongo_db, prefix, progress.DEFAULT_BATCH_SIZE,
                              lambda move: finalize.finalize(
                                  move.mongo, move.db, archive, prefix=move.prefix,
                                  secret=move.secret, sample=sample))
    except finalize.Refused as exc:
        raise fail(f"finalize refused: {exc}", code=1) from None
    for name, entry in manifest.collections.items():
        console.print(f"{name}: {entry['documents']} document(s) in {entry['file']} "
                      f"(sha256 {entry['sha256']}), dropped", soft_wrap=True)
    console.print(f"archive: {escape(str(archive.resolve()))} ({finalize.MANIFEST})",
                  soft_wrap=True)


if __name__ == "__main__":
    legacy_app(prog_name="panamia legacy")
