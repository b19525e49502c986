"""`panamia db …`: migrations for PostgreSQL (and the versioned MongoDB steps)."""

import typer
from rich.console import Console

from panamia.cli_support import fail
from panamia.settings import get_settings

db_app = typer.Typer(help="Database migrations: write, check, apply, inspect.",
                     no_args_is_help=True)
console = Console()


def postgres_url_for_migrations() -> str:
    settings = get_settings()
    url = settings.postgres_direct_url or settings.postgres_url
    if not url:
        raise fail("set POSTGRES_URL (or POSTGRES_DIRECT_URL) to the database to migrate")
    return url


# --- writing and checking migration files: new, validate, lint -------------------------


@db_app.command()
def new(
    name: str = typer.Argument(help="lowercase snake_case, e.g. add_listings"),
    ticket: str | None = typer.Option(None, help="PANA-<number>; N/A when omitted"),
    purpose: str | None = typer.Option(None, help="why this change exists"),
    autogenerate: bool = typer.Option(
        False, help="write the operations from the models' difference with POSTGRES_URL"),
) -> None:
    """Write versions/<UTC timestamp>_NAME.py with its header and record it in migrations.sum."""
    from panamia.schema import governance
    from panamia.schema.files import display

    url = postgres_url_for_migrations() if autogenerate else None
    try:
        path = governance.new_migration(name, ticket=ticket, purpose=purpose, postgres_url=url)
    except governance.GovernanceError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"created {display(path)}: review it and complete its header; "
               "if you edit it, run `panamia db hash` before committing")


@db_app.command()
def validate(
    staged: bool = typer.Option(
        False, help="also refuse staged changes to committed migrations (pre-commit hook)"),
    base: str | None = typer.Option(
        None, help="also refuse changes to migrations committed at this git revision (CI)"),
) -> None:
    """Check names, headers, downgrades, the single chain and migrations.sum."""
    from panamia.schema import governance

    if staged and base:
        raise fail("give --staged or --base, not both")
    try:
        problems = governance.validate(staged=staged, base=base)
    except governance.GovernanceError as exc:
        raise fail(str(exc)) from None
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise typer.Exit(1)
    typer.echo("OK: migrations are valid")


@db_app.command("hash")
def hash_() -> None:
    """Record in migrations.sum the migrations not committed yet, as they are now."""
    from panamia.schema import governance

    for name in governance.rehash():
        typer.echo(f"recorded {name}")


@db_app.command()
def lint(names: list[str] | None = typer.Argument(
        None, help="migrations to lint (default: all)")) -> None:
    """Check each migration's offline SQL for locks and rewrites that hurt a live database."""
    from panamia.schema import lint as linting

    try:
        findings = linting.lint(names or ())
    except LookupError as exc:
        raise fail(str(exc)) from None
    for finding in findings:
        typer.echo(str(finding))
    if any(finding.allowed is None for finding in findings):
        raise typer.Exit(1)
    typer.echo("OK: migrations lint clean")


# --- applying and inspecting: deploy, status, history, resolve, rollback ---------------


VERSIONS_OPTION = typer.Option(None, "--versions-dir", hidden=True,
                               help="migrations directory (tests)")
MONGO_STEPS_OPTION = typer.Option(None, "--mongo-steps-dir", hidden=True,
                                  help="MongoDB steps directory (tests)")


def _dirs(versions_dir, mongo_steps_dir):
    from pathlib import Path

    from panamia.schema import migrate, mongo_steps

    return (Path(versions_dir) if versions_dir else migrate.VERSIONS_DIR,
            Path(mongo_steps_dir) if mongo_steps_dir else mongo_steps.STEPS_DIR)


def _run(coroutine):
    """Run a deploy coroutine; its refusals and failures print their advice and exit 1."""
    import asyncio

    from panamia.schema.migrate import MigrationError

    try:
        return asyncio.run(coroutine)
    except MigrationError as exc:
        raise fail(str(exc), code=1) from None


async def _with_mongo(use, *, required: bool):
    """Call `use(db)` with the MongoDB database, or with None when MONGODB_URL is unset."""
    from panamia.db.mongo import create_client

    settings = get_settings()
    if not settings.mongodb_url:
        if required:
            raise fail("there are MongoDB steps to apply: set MONGODB_URL")
        return await use(None)
    client = create_client(settings.mongodb_url, "migrate")
    try:
        return await use(client[settings.mongodb_db])
    finally:
        await client.close()


def _say(message: str) -> None:
    console.print(message, markup=False, highlight=False)


def _print_table(table) -> None:
    """Whole rows in a terminal's width; in a log (CI), wide enough not to cut names."""
    (console if console.is_terminal else Console(width=160)).print(table)


@db_app.command()
def deploy(
    lock_wait: float = typer.Option(60.0, help="seconds to wait for another deploy's lock"),
    allow_modified: bool = typer.Option(
        False, help="apply even though applied migrations were changed (recorded)"),
    lock_timeout: str = typer.Option("3s", help="each migration's lock_timeout"),
    statement_timeout: str = typer.Option("15min", help="each migration's statement_timeout"),
    versions_dir: str | None = VERSIONS_OPTION,
    mongo_steps_dir: str | None = MONGO_STEPS_OPTION,
) -> None:
    """Apply pending migrations to POSTGRES_DIRECT_URL (or POSTGRES_URL), then MongoDB steps.

    Safe to run from several instances at once: one applies, the others wait and exit 0."""
    from panamia.schema import deploy as deploying
    from panamia.schema import mongo_steps

    url = postgres_url_for_migrations()
    versions, steps = _dirs(versions_dir, mongo_steps_dir)

    def run(mongo):
        return deploying.deploy(
            url, versions, mongo=mongo, mongo_steps_dir=steps, lock_wait=lock_wait,
            allow_modified=allow_modified, lock_timeout=lock_timeout,
            statement_timeout=statement_timeout, say=_say)

    result = _run(_with_mongo(run, required=bool(mongo_steps.step_files(steps))))
    if not result.applied and not result.mongo_applied:
        _say("nothing to apply: the databases are up to date"
             + (" (another deploy applied the pending migrations)" if result.locked else ""))
    else:
        _say(f"applied {len(result.applied)} PostgreSQL migration(s) and "
             f"{len(result.mongo_applied)} MongoDB step(s)")


@db_app.command()
def status(
    json_output: bool = typer.Option(False, "--json", help="print JSON"),
    versions_dir: str | None = VERSIONS_OPTION,
    mongo_steps_dir: str | None = MONGO_STEPS_OPTION,
) -> None:
    """Each migration and MongoDB step: applied, pending, modified, failed or missing.

    Exits 1 when anything is modified, failed or missing."""
    import json

    from rich.table import Table

    from panamia.schema import deploy as deploying
    from panamia.schema import ledger, mongo_steps

    url = postgres_url_for_migrations()
    versions, steps = _dirs(versions_dir, mongo_steps_dir)

    async def read():
        state = await deploying.status(url, versions)

        async def mongo_entries(db):
            return None if db is None else await mongo_steps.entries(db, steps)

        return state, await _with_mongo(mongo_entries, required=False)

    state, mongo = _run(read())
    postgres = state.entries
    if json_output:
        typer.echo(json.dumps({
            "deploy_running": state.deploy_running,
            "postgres": [e.as_dict() for e in postgres],
            "mongodb": None if mongo is None else [e.as_dict() for e in mongo],
        }, indent=2))
    else:
        colors = {ledger.APPLIED: "green", ledger.PENDING: "yellow", ledger.APPLYING: "cyan"}
        for title, entries in (("PostgreSQL", postgres), ("MongoDB", mongo)):
            if entries is None:
                console.print(f"{title}: MONGODB_URL is not set")
                continue
            table = Table(title=title)
            table.add_column("migration", no_wrap=True)
            for column in ("state", "applied at", "by"):
                table.add_column(column)
            for e in entries:
                color = colors.get(e.state, "red")
                applied_at = e.row.finished_at if e.row and e.state != ledger.PENDING else None
                label = e.state + (" (last attempt failed)" if e.state == ledger.PENDING
                                   and e.row and e.row.failed else "")
                table.add_row(e.name, f"[{color}]{label}[/{color}]",
                              f"{applied_at:%Y-%m-%d %H:%M:%S}" if applied_at else "",
                              e.row.applied_by if e.row and e.state != ledger.PENDING else "")
            _print_table(table)
        if state.deploy_running:
            console.print("a deploy is running now (it holds the deploy lock)")
    if any(e.state in ledger.PROBLEMS for e in postgres + (mongo or [])):
        raise typer.Exit(1)


@db_app.command()
def history() -> None:
    """Every attempt in the ledger, oldest first."""
    from rich.table import Table

    from panamia.schema import deploy as deploying

    rows = _run(deploying.history(postgres_url_for_migrations()))
    table = Table("#")
    table.add_column("migration", no_wrap=True)
    table.add_column("started", no_wrap=True)
    for column in ("took", "outcome", "by", "notes"):
        table.add_column(column)
    for row in rows:
        took = (f"{(row.finished_at - row.started_at).total_seconds() * 1000:.0f} ms"
                if row.finished_at and row.started_at else "")
        notes = ("--allow-modified; " if row.allow_modified else "") + (row.logs or "")
        table.add_row(str(row.id), row.migration_name, f"{row.started_at:%Y-%m-%d %H:%M:%S}",
                      took, row.outcome, row.applied_by, notes.strip())
    _print_table(table)


@db_app.command()
def resolve(
    name: str = typer.Argument(help="the failed migration"),
    applied: bool = typer.Option(False, "--applied", help="you completed it by hand"),
    rolled_back: bool = typer.Option(
        False, "--rolled-back", help="nothing of it remains; deploy will run it again"),
    versions_dir: str | None = VERSIONS_OPTION,
) -> None:
    """Mark a failed migration after fixing the database by hand (keeps the failed row)."""
    from panamia.schema import deploy as deploying

    if applied == rolled_back:
        raise fail("give exactly one of --applied and --rolled-back")
    versions, _ = _dirs(versions_dir, None)
    _run(deploying.resolve(postgres_url_for_migrations(), name, applied=applied,
                           versions_dir=versions))
    _say(f"{name} marked {'applied' if applied else 'rolled back'}")


@db_app.command()
def rollback(
    steps: int | None = typer.Option(None, help="how many applied migrations (default 1)"),
    to: str | None = typer.Option(None, help="keep this migration applied, undo the later ones"
                                  " (`base`: undo all)"),
    yes_in_production: bool = typer.Option(
        False, "--yes-in-production", help="allow outside PANAMIA_ENV development/test"),
    lock_wait: float = typer.Option(60.0, help="seconds to wait for another deploy's lock"),
    versions_dir: str | None = VERSIONS_OPTION,
) -> None:
    """Run the downgrades of the latest migrations (refuses `Reversible: No`)."""
    from panamia.schema import deploy as deploying

    settings = get_settings()
    if settings.panamia_env not in ("development", "test") and not yes_in_production:
        raise fail(f"rollback destroys data and PANAMIA_ENV is {settings.panamia_env}: "
                          "pass --yes-in-production if you mean it")
    if steps is not None and to is not None:
        raise fail("give --steps or --to, not both")
    versions, _ = _dirs(versions_dir, None)
    names = _run(deploying.rollback(postgres_url_for_migrations(), versions, steps=steps,
                                    to=to, lock_wait=lock_wait, say=_say))
    _say(f"rolled back {len(names)} migration(s)" if names else "nothing to roll back")


if __name__ == "__main__":
    db_app()
