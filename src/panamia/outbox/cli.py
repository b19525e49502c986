"""`panamia outbox relay|status`, added to `panamia` by cli.py."""

import asyncio
import json
import logging.config
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from panamia.cli_support import age, run_with_resources
from panamia.logs import uvicorn_log_config
from panamia.outbox import relay, service
from panamia.resources import Resources

outbox_app = typer.Typer(help="The outbox that carries changes from PostgreSQL to MongoDB.",
                         no_args_is_help=True)
console = Console()


@outbox_app.command("relay")
def relay_command(
    once: Annotated[bool, typer.Option(help="Relay what is due now, then exit")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = relay.BATCH_SIZE,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between idle polls")] = (
        relay.INTERVAL),
) -> None:
    """Run a dedicated relay worker (any number may run beside the services' own relays)."""
    if once:
        result = run_with_resources("relay", lambda r: relay.drain(r, batch_size=batch_size))
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

    logging.config.dictConfig(uvicorn_log_config())
    run_with_resources("relay", forever)


@outbox_app.command("status")
def status_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The backlog: undelivered events by topic, how many failed, and the oldest one."""

    async def read(resources: Resources) -> service.Backlog:
        async with resources.reads() as session:
            return await service.backlog(session)

    backlog = run_with_resources("cli", read)
    oldest = backlog.oldest
    if as_json:
        typer.echo(json.dumps({
            "undelivered": backlog.undelivered, "failing": backlog.failing,
            "byTopic": backlog.by_topic,
            "oldest": oldest and oldest.model_dump(mode="json", by_alias=True),
            **backlog.others,
        }, indent=2, default=str))
        return
    console.print(f"undelivered: {backlog.undelivered} (failed at least once: {backlog.failing})")
    if backlog.by_topic:
        table = Table("topic", "undelivered")
        for topic, count in backlog.by_topic.items():
            table.add_row(topic, str(count))
        console.print(table)
    if oldest:
        console.print(f"oldest: {oldest.id} {oldest.topic}, waiting {age(oldest.created_at)}, "
                      f"{oldest.attempts} attempts, next at {oldest.next_attempt_at:%H:%M:%S}"
                      + (f", last error: {escape(oldest.last_error)}" if oldest.last_error
                         else ""), soft_wrap=True)
    for name, section in backlog.others.items():
        console.print(f"{name}: " + ", ".join(f"{key} {value}" for key, value in section.items()
                                              if not isinstance(value, dict)))
        for key, rows in section.items():
            if isinstance(rows, dict) and rows:
                table = Table(key, *sorted({state for row in rows.values() for state in row}))
                for label, row in rows.items():
                    table.add_row(label, *(str(row.get(c.header, 0)) for c in table.columns[1:]))
                console.print(table)
