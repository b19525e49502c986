"""`panamia pets …`: operator commands of the pet-sitting sidecar.

The sidecar's declaration (`panamia.pets.sidecar`) adds them to `panamia`.
"""

import asyncio
from datetime import UTC, datetime

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError

from panamia.cli_support import fail
from panamia.db.postgres import create_engine, create_sessionmaker
from panamia.pets.bookings import expiry
from panamia.settings import get_settings

pets_app = typer.Typer(help="The pet-sitting sidecar.", no_args_is_help=True)


@pets_app.command("expire")
def expire_command() -> None:
    """Expire booking requests unanswered for 48 hours (freeing their nights), once. Running
    sidecars do this every minute; `panamia purge` deletes old idempotency keys."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise fail(f"the environment does not hold valid settings: {exc}") from None
    if not settings.postgres_url:
        raise fail("set POSTGRES_URL to the database to sweep")

    async def run() -> list[str]:
        engine = create_engine(settings.postgres_url, "cli")
        try:
            return await expiry.expire_pending(create_sessionmaker(engine), datetime.now(UTC))
        finally:
            await engine.dispose()

    try:
        expired = asyncio.run(run())
    except (InterfaceError, DBAPIError, OSError) as exc:
        raise fail(f"PostgreSQL is unreachable or not migrated: {exc}") from None
    typer.echo(f"expired {len(expired)} pending booking request(s)")
