"""`panamia outbox relay|status` and `panamia doctor`.

Wire into the top-level CLI with:
    app.add_typer(outbox_app, name="outbox")
    app.command("doctor")(doctor_command)
"""

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import DBAPIError, InterfaceError

from panamia import doctor, references
from panamia.outbox import relay, service
from panamia.resources import Resources
from panamia.settings import get_settings

outbox_app = typer.Typer(help="The outbox that carries changes from PostgreSQL to MongoDB.",
                         no_args_is_help=True)
console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def _run(process_name: str, use: Callable[[Resources], Awaitable[T]]) -> T:
    """Open the configured databases, run `use`, close them; unreachable servers exit 2."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise _fail(f"the environment does not hold valid settings: {exc}") from None
    if not settings.postgres_url or not settings.mongodb_url:
        raise _fail("set POSTGRES_URL and MONGODB_URL (under `panamia dev` every service "
                    "already runs a relay)")

    async def main() -> T:
        resources = Resources.open(settings, process_name)
        try:
            return await use(resources)
        finally:
            await resources.close()

    try:
        return asyncio.run(main())
    except ConnectionFailure as exc:
        raise _fail(f"MongoDB is unreachable: {exc}") from None
    except (InterfaceError, DBAPIError, OSError) as exc:
        raise _fail(f"PostgreSQL is unreachable or not migrated: {exc}") from None


@outbox_app.command("relay")
def relay_command(
    once: Annotated[bool, typer.Option(help="Relay what is due now, then exit")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = relay.BATCH_SIZE,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between idle polls")] = (
        relay.INTERVAL),
) -> None:
    """Run a dedicated relay worker (any number may run beside the services' own relays)."""
    if once:
        result = _run("relay", lambda r: relay.drain(r, batch_size=batch_size))
        console.print(f"claimed {result.claimed}, delivered {result.delivered}, "
                      f"failed {result.failed}")
        raise typer.Exit(1 if result.failed else 0)

    async def forever(resources: Resources) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print("relaying; stop with Ctrl-C")
        await relay.run_forever(resources, batch_size=batch_size, interval=interval, stop=stop)

    _run("relay", forever)


def _age(since: datetime) -> str:
    seconds = int((datetime.now(UTC) - since).total_seconds())
    return str(timedelta(seconds=max(seconds, 0)))


@outbox_app.command("status")
def status_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The backlog: undelivered events by topic, how many failed, and the oldest one."""

    async def read(resources: Resources) -> service.Backlog:
        async with resources.reads() as session:
            return await service.backlog(session)

    backlog = _run("cli", read)
    oldest = backlog.oldest
    if as_json:
        typer.echo(json.dumps({
            "undelivered": backlog.undelivered, "failing": backlog.failing,
            "byTopic": backlog.by_topic,
            "oldest": oldest and doctor.StaleEvent.model_validate(oldest, from_attributes=True)
            .model_dump(mode="json", by_alias=True),
        }, indent=2))
        return
    console.print(f"undelivered: {backlog.undelivered} (failed at least once: {backlog.failing})")
    if backlog.by_topic:
        table = Table("topic", "undelivered")
        for topic, count in backlog.by_topic.items():
            table.add_row(topic, str(count))
        console.print(table)
    if oldest:
        console.print(f"oldest: {oldest.id} {oldest.topic}, waiting {_age(oldest.created_at)}, "
                      f"{oldest.attempts} attempts, next at {oldest.next_attempt_at:%H:%M:%S}"
                      + (f", last error: {escape(oldest.last_error)}" if oldest.last_error
                         else ""), soft_wrap=True)


def _print_report(report: doctor.ConsistencyReport) -> None:
    table = Table("reference", "when user deleted", "ids naming no user", "documents",
                  "awaiting relay", "state")
    for f in report.references:
        state = "[red]orphans[/red]" if f.problem else (
            "kept" if f.documents else "[green]ok[/green]")
        table.add_row(f"{f.reference} -> {f.target}", f.on_user_delete.value,
                      str(f.missing_ids), str(f.documents), str(f.awaiting_relay), state)
    console.print(table)
    for f in report.references:
        if f.problem:
            console.print(f"{f.reference}: e.g. {', '.join(f.sample_ids)}", soft_wrap=True)
    stale = report.stale_events
    line = (f"outbox events undelivered for over {stale.stale_after_minutes:g} minutes: "
            f"{stale.count}")
    if stale.oldest:
        line += (f"; oldest {stale.oldest.id} ({stale.oldest.topic}), "
                 f"waiting {_age(stale.oldest.created_at)}"
                 + (f", last error: {escape(stale.oldest.last_error)}"
                    if stale.oldest.last_error else ""))
    console.print(line, soft_wrap=True)
    console.print("[green]consistent[/green]" if report.ok else "[red]inconsistent[/red]")


def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
    stale_after: Annotated[float, typer.Option(
        min=0, help="Minutes after which an undelivered outbox event is a problem")] = (
        doctor.DEFAULT_STALE_AFTER.total_seconds() / 60),
    show_references: Annotated[bool, typer.Option(
        "--references", help="Print the map of cross-database references as Markdown")] = False,
) -> None:
    """Check that MongoDB and PostgreSQL agree; exit 1 when they do not."""
    if show_references:
        typer.echo(references.markdown(), nl=False)
        return
    report = _run("cli", lambda r: doctor.check(r, stale_after=timedelta(minutes=stale_after)))
    if as_json:
        typer.echo(report.model_dump_json(by_alias=True, indent=2))
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)
