"""What every `panamia` command shares: failing with one line, opening the databases."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import typer
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError, InterfaceError

from panamia.resources import Resources
from panamia.settings import get_settings

err = Console(stderr=True)
T = TypeVar("T")


def fail(message: str, code: int = 2) -> typer.Exit:
    """One line on stderr, never wrapped, so the operator sees the whole message."""
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def run_with_resources(process_name: str, use: Callable[[Resources], Awaitable[T]]) -> T:
    """Open the configured databases, run `use`, close them; unreachable servers exit 2."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise fail(f"the environment does not hold valid settings: {exc}") from None
    if not settings.postgres_url or not settings.mongodb_url:
        raise fail("set POSTGRES_URL and MONGODB_URL (under `panamia dev` every service "
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
        raise fail(f"MongoDB is unreachable: {exc}") from None
    except (InterfaceError, DBAPIError, OSError) as exc:
        raise fail(f"PostgreSQL is unreachable or not migrated: {exc}") from None


def age(since: datetime) -> str:
    """How long ago `since` was, as H:MM:SS."""
    seconds = int((datetime.now(UTC) - since).total_seconds())
    return str(timedelta(seconds=max(seconds, 0)))
