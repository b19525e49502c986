"""`panamia …`: run the platform, one service, or the database tooling."""

from enum import Enum
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from panamia.settings import ConfigurationError, get_settings

app = typer.Typer(help="Pana MIA: a community platform on PostgreSQL and MongoDB.",
                  no_args_is_help=True)
db_app = typer.Typer(help="PostgreSQL migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
err = Console(stderr=True)


class Service(str, Enum):
    main = "main"
    pets = "pets"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@app.command()
def dev(
    host: str = "127.0.0.1",
    main_port: Annotated[int, typer.Option(help="Port of the main app")] = 8000,
    pets_port: Annotated[int, typer.Option(help="Port of the pets sidecar")] = 8001,
) -> None:
    """Run everything locally: embedded databases unless POSTGRES_URL / MONGODB_URL are set,
    migrations, the main app and the pets sidecar."""
    from panamia import dev as dev_runner

    try:
        code = dev_runner.run(get_settings(), host=host, main_port=main_port, pets_port=pets_port)
    except (ConfigurationError, dev_runner.DevError) as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@app.command()
def serve(
    service: Service,
    host: str = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: 8000 main, 8001 pets")] = None,
    workers: int = 1,
) -> None:
    """Serve one service against the configured databases (the production way to run it)."""
    try:
        settings = get_settings().require_runtime()
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None
    if not settings.postgres_url or not settings.mongodb_url:
        raise _fail("set POSTGRES_URL and MONGODB_URL (or use `panamia dev`)")
    uvicorn.run(
        f"panamia.apps.{service.value}:create_app", factory=True, host=host,
        port=port or (8000 if service is Service.main else 8001), workers=workers,
        proxy_headers=True, forwarded_allow_ips="127.0.0.1",
    )


@db_app.command()
def deploy() -> None:
    """Apply pending migrations to POSTGRES_DIRECT_URL, or POSTGRES_URL."""
    from panamia.schema import migrate

    settings = get_settings()
    url = settings.postgres_direct_url or settings.postgres_url
    if not url:
        raise _fail("set POSTGRES_URL (or POSTGRES_DIRECT_URL) to the database to migrate")
    migrate.upgrade(url)
    Console().print("migrations applied")
