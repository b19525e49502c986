"""`panamia work`: the background work of the main app and of every sidecar (the outbox relay,
the purges, the sweeps) in a process of its own, beside services served with
`panamia serve --no-background`."""

import asyncio
import logging.config
import signal
from collections.abc import Callable, Sequence

import typer

from panamia.cli_support import run_with_resources
from panamia.logs import uvicorn_log_config
from panamia.resources import Resources
from panamia.sidecar import registry

Task = Callable[..., asyncio.Future]


def background_tasks() -> list[Task]:
    """The main app's tasks, then every sidecar's, each once (pets also declares the relay)."""
    # Imported here: the main app brings in the OAuth clients, which every other `panamia`
    # command can do without.
    from panamia.apps.main import BACKGROUND

    tasks: list[Task] = []
    for task in (*BACKGROUND, *(t for s in registry.discover() for t in s.background)):
        if task not in tasks:
            tasks.append(task)
    return tasks


async def run_until_signalled(resources: Resources, tasks: Sequence[Task]) -> None:
    """Run `tasks` until SIGTERM or SIGINT. Every task takes `stop`, and then finishes, and
    commits, the batch in hand before it returns, so a stop loses nothing and delivers
    nothing twice."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await asyncio.gather(*(task(resources, stop=stop) for task in tasks))


def command() -> None:
    """Run the background work of the main app and every sidecar until SIGTERM or Ctrl-C:
    for services served with `--no-background`. Any number may run at once."""
    logging.config.dictConfig(uvicorn_log_config())
    tasks = background_tasks()
    names = ", ".join(f"{task.__module__}.{task.__name__}" for task in tasks)
    typer.echo(f"working: {names}", err=True)
    run_with_resources("worker", lambda resources: run_until_signalled(resources, tasks))
    typer.echo("stopped", err=True)
