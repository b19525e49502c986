"""`panamia db …`: migrations for PostgreSQL (and the versioned MongoDB steps)."""

import typer
from rich.console import Console

from panamia.settings import get_settings

db_app = typer.Typer(help="Database migrations: write, check, apply, inspect.",
                     no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def postgres_url_for_migrations() -> str:
    settings = get_settings()
    url = settings.postgres_direct_url or settings.postgres_url
    if not url:
        err.print("[red]error:[/red] set POSTGRES_URL (or POSTGRES_DIRECT_URL) to the database "
                  "to migrate")
        raise typer.Exit(2)
    return url


# --- writing and checking migration files: new, validate, lint -------------------------


# --- applying and inspecting: deploy, status, history, resolve, rollback ---------------


@db_app.command()
def deploy() -> None:
    """Apply pending migrations to POSTGRES_DIRECT_URL, or POSTGRES_URL."""
    from panamia.schema import migrate

    migrate.upgrade(postgres_url_for_migrations())
    console.print("migrations applied")


if __name__ == "__main__":
    db_app()
