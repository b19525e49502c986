"""`panamia …`: run the platform, one service, or the database tooling."""

import inspect
import os
from enum import Enum
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from panamia import doctor, metrics, work
from panamia.cli_support import fail
from panamia.ledger.cli import ledger_app
from panamia.legacy.cli import legacy_app
from panamia.logs import uvicorn_log_config
from panamia.mail import create_mailer
from panamia.outbox.cli import outbox_app
from panamia.schema.cli import db_app
from panamia.settings import ConfigurationError, Settings, get_settings
from panamia.sidecar import registry

app = typer.Typer(help="Pana MIA: a community platform on PostgreSQL and MongoDB.",
                  no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(legacy_app, name="legacy")
app.add_typer(ledger_app, name="ledger")
SIDECARS = {sidecar.name: sidecar for sidecar in registry.discover()}
for sidecar in SIDECARS.values():
    if sidecar.cli:
        app.add_typer(sidecar.cli, name=sidecar.name)
demo_app = typer.Typer(help="The demo community for development.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.command("doctor")(doctor.command)
app.command("work")(work.command)


Service = Enum("Service", {name: name for name in ("main", *SIDECARS)}, type=str)
MAIN_PORT = 8000


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"the environment does not hold valid settings: {problems}") from None


def dev(
    host: str = "127.0.0.1",
    main_port: Annotated[int, typer.Option(help="Port of the main app")] = MAIN_PORT,
    demo: Annotated[bool, typer.Option(help="Fill empty databases with the demo community")] = True,
    **sidecar_ports: int,
) -> None:
    """Run everything locally: embedded databases unless POSTGRES_URL / MONGODB_URL are set,
    migrations, the demo community (into empty databases), the main app and every sidecar."""
    from panamia import dev as dev_runner

    settings = _settings()
    if "panamia_env" in settings.model_fields_set and settings.is_production:
        raise fail("`panamia dev` is for development: PANAMIA_ENV says production")
    ports = {"main": main_port} | {name: sidecar_ports[f"{name}_port"] for name in SIDECARS}
    try:
        code = dev_runner.run(settings.model_copy(update={"panamia_env": "development"}),
                              host=host, ports=ports, with_demo=demo)
    except (ConfigurationError, dev_runner.DevError) as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


def _with_sidecar_ports(command):
    """`--<name>-port` for every installed sidecar, defaulting to its declared port."""
    signature = inspect.signature(command)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    options = [
        inspect.Parameter(f"{sidecar.name}_port", inspect.Parameter.KEYWORD_ONLY,
                          default=sidecar.default_port,
                          annotation=Annotated[int, typer.Option(help=f"Port of {sidecar.title}")])
        for sidecar in SIDECARS.values()
    ]
    command.__signature__ = signature.replace(parameters=[*fixed, *options])
    return command


app.command()(_with_sidecar_ports(dev))


@app.command()
def serve(
    service: Service,
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: 8000 main; a sidecar's own")] = None,
    workers: int = 1,
    background: Annotated[bool, typer.Option(
        help="Also run the service's background work (relay, purges, sweeps); turn it off "
             "where `panamia work` runs beside")] = True,
    graceful_timeout: Annotated[float, typer.Option(
        min=0, help="Seconds a stop waits for requests in flight before ending them")] = 30,
) -> None:
    """Serve one service against the configured databases: production unless PANAMIA_ENV
    says development or test. Mail goes out through SMTP_URL only."""
    if not background:
        os.environ["PANAMIA_BACKGROUND_WORK"] = "false"  # each worker reads its own settings
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
    if service.value == "main":
        factory, default_port = "panamia.apps.main:create_app", MAIN_PORT
    else:
        factory = registry.entry_point_value(service.value)
        default_port = SIDECARS[service.value].default_port
    port = port or default_port
    if workers > 1:  # one /metrics sums them all (docs/observability.md)
        metrics.share_between_workers(
            settings.panamia_data_dir / "metrics" / f"{service.value}-{port}")
    uvicorn.run(
        factory, factory=True, host=host, port=port, workers=workers,
        proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=graceful_timeout, log_config=uvicorn_log_config(),
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
