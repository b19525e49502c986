"""`panamia …`: run the platform, one service, or the database tooling."""

from enum import Enum
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from panamia import doctor
from panamia.cli_support import fail
from panamia.legacy.cli import legacy_app
from panamia.logs import uvicorn_log_config
from panamia.mail import create_mailer
from panamia.outbox.cli import outbox_app
from panamia.pets.cli import pets_app
from panamia.schema.cli import db_app
from panamia.settings import ConfigurationError, Settings, get_settings

app = typer.Typer(help="Pana MIA: a community platform on PostgreSQL and MongoDB.",
                  no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(pets_app, name="pets")
app.add_typer(legacy_app, name="legacy")
demo_app = typer.Typer(help="The demo community for development.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.command("doctor")(doctor.command)


class Service(str, Enum):
    main = "main"
    pets = "pets"


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"the environment does not hold valid settings: {problems}") from None


@app.command()
def dev(
    host: str = "127.0.0.1",
    main_port: Annotated[int, typer.Option(help="Port of the main app")] = 8000,
    pets_port: Annotated[int, typer.Option(help="Port of the pets sidecar")] = 8001,
    demo: Annotated[bool, typer.Option(help="Fill empty databases with the demo community")] = True,
) -> None:
    """Run everything locally: embedded databases unless POSTGRES_URL / MONGODB_URL are set,
    migrations, the demo community (into empty databases), the main app and the pets sidecar."""
    from panamia import dev as dev_runner

    settings = _settings()
    if "panamia_env" in settings.model_fields_set and settings.is_production:
        raise fail("`panamia dev` is for development: PANAMIA_ENV says production")
    try:
        code = dev_runner.run(settings.model_copy(update={"panamia_env": "development"}),
                              host=host, main_port=main_port, pets_port=pets_port,
                              with_demo=demo)
    except (ConfigurationError, dev_runner.DevError) as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


@app.command()
def serve(
    service: Service,
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: 8000 main, 8001 pets")] = None,
    workers: int = 1,
) -> None:
    """Serve one service against the configured databases: production unless PANAMIA_ENV
    says development or test. Mail goes out through SMTP_URL only."""
    try:
        settings = _settings().require_runtime()
        create_mailer(settings)  # a malformed SMTP_URL is named here, not in a traceback
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    missing = [name for name, value in (("POSTGRES_URL", settings.postgres_url),
                                        ("MONGODB_URL", settings.mongodb_url)) if not value]
    if missing:
        raise fail(f"set {' and '.join(missing)} (or run `panamia dev`, which starts "
                    "embedded servers)")
    uvicorn.run(
        f"panamia.apps.{service.value}:create_app", factory=True, host=host,
        port=port or (8000 if service is Service.main else 8001), workers=workers,
        proxy_headers=True, forwarded_allow_ips="127.0.0.1", log_config=uvicorn_log_config(),
    )


@app.command()
def purge() -> None:
    """Delete expired sign-in links and sessions, outbox events delivered over a week ago and
    ended rate-limit windows, once (for cron); the main app does it every few minutes."""
    import asyncio

    from sqlalchemy.exc import DBAPIError, InterfaceError

    from panamia import purge as housekeeping

    settings = _settings()
    if not settings.postgres_url:
        raise fail("set POSTGRES_URL to the database to purge")
    try:
        deleted = asyncio.run(housekeeping.purge_once(settings))
    except (InterfaceError, DBAPIError, OSError) as exc:
        raise fail(f"PostgreSQL is unreachable or not migrated: {exc}") from None
    for kind, count in deleted.items():
        typer.echo(f"{kind}: {count} deleted")


@demo_app.command("reset")
def demo_reset() -> None:
    """Delete the demo people and all of theirs, then add the demo community again
    (development and test only; POSTGRES_URL and MONGODB_URL as `panamia dev` prints them)."""
    import asyncio

    from panamia import demo
    from panamia.resources import Resources

    settings = _settings()
    if not (settings.postgres_url and settings.mongodb_url):
        raise fail("set POSTGRES_URL and MONGODB_URL to the databases `panamia dev` printed")

    async def rebuild() -> None:
        resources = Resources.open(settings.require_runtime(), "cli")
        try:
            await demo.reset(resources)
        finally:
            await resources.close()

    try:
        asyncio.run(rebuild())
    except (demo.DemoRefused, ConfigurationError) as exc:
        raise fail(str(exc)) from None
    Console().print(f"demo community rebuilt: sign in as {demo.SIGN_IN_EXAMPLE}")
