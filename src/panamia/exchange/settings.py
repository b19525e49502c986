"""The exchange's own settings, from the environment: the platform fee. Its public URL is the
platform's `EXCHANGE_URL` (`Settings.public_url`)."""

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from panamia.settings import Settings


class ExchangeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # The platform's share of each paid transaction, in percent, kept when the money is
    # released to the seller (`EXCHANGE_FEE_PERCENT`).
    exchange_fee_percent: Decimal = Field(Decimal("5"), ge=0, le=50, decimal_places=2)


@lru_cache
def get_exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()


DEFAULT_PORT = 8002


def public_url(settings: Settings) -> str:
    """Where members reach the exchange (`EXCHANGE_URL`), for links in notices and sign-in."""
    return settings.public_url("exchange", f"http://localhost:{DEFAULT_PORT}")
