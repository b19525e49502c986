"""Alembic, configured from code: no alembic.ini to keep in step with the settings."""

from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).parent
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d%%(hour).2d%%(minute).2d%%(second).2d_%%(slug)s"


def alembic_config(postgres_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_locations", str(SCRIPT_LOCATION / "versions"))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    config.set_main_option("path_separator", "os")
    config.attributes["postgres_url"] = postgres_url
    return config


def upgrade(postgres_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(postgres_url), revision)


def downgrade(postgres_url: str, revision: str) -> None:
    command.downgrade(alembic_config(postgres_url), revision)
