"""One Settings object, read once from the environment (names from the seed where it has them)."""

import os
import secrets
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

Environment = Literal["development", "test", "production"]


class ConfigurationError(RuntimeError):
    """Start-up cannot continue; the message says what to set."""


class OAuthClient:
    def __init__(self, name: str, client_id: str, client_secret: str, issuer: str | None = None):
        self.name = name
        self.client_id = client_id
        self.client_secret = client_secret
        self.issuer = issuer


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Production unless told otherwise: `panamia serve` is how production runs.
    panamia_env: Environment = "production"
    panamia_data_dir: Path = Path(".panamia")

    postgres_url: str | None = None
    postgres_direct_url: str | None = None
    mongodb_url: str | None = None
    mongodb_db: str = "panamia"

    auth_secret: str | None = None
    auth_url: str = "http://localhost:8000"
    auth_cookie_domain: str | None = None
    admin_emails: str = ""
    smtp_url: str | None = None
    mail_from: str = "Pana MIA <no-reply@localhost>"

    auth_github_id: str | None = None
    auth_github_secret: str | None = None
    auth_google_id: str | None = None
    auth_google_secret: str | None = None
    auth_oidc_issuer: str | None = None
    auth_oidc_id: str | None = None
    auth_oidc_secret: str | None = None
    auth_oidc_name: str = Field("OpenID Connect", description="Button label for the generic provider")

    pets_url: str = "http://localhost:8001"
    # Every other service's public URL by name, from `<NAME>_URL` (EXCHANGE_URL gives
    # "exchange"): read for every name without a setting of its own, see `_PublicUrls`.
    public_urls: dict[str, str] = Field(default_factory=dict)

    # Where uploaded photos are kept: MongoDB's GridFS, or files under PHOTOS_DIR (by default
    # <PANAMIA_DATA_DIR>/photos), which every service must then share (docs/photos.md).
    photos_store: Literal["gridfs", "directory"] = "gridfs"
    photos_dir: Path | None = None

    # Federation may fetch from and deliver to http:// and loopback or private addresses:
    # for tests and `panamia dev` only; production refuses to start with it.
    federation_allow_private_networks: bool = False

    # Request bodies larger than this are refused with 413 before they are read.
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # A session ends this long after sign-in however often it is used (OWASP ASVS 3.3.2).
    session_absolute_days: int = Field(90, ge=1)
    # Sign-in mails per hour, per address and per client address.
    signin_limit_per_address: int = Field(5, ge=1)
    signin_limit_per_client: int = Field(30, ge=1)
    # /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is a 404.
    metrics_token: str | None = None
    # `json`: one JSON object per log line, with the request's id (docs/observability.md).
    panamia_log_format: Literal["text", "json"] = "text"

    # Proxies whose X-Forwarded-For and X-Forwarded-Proto `panamia serve` believes: comma-
    # separated addresses or networks, or "*" (uvicorn's --forwarded-allow-ips).
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # Whether each service process also runs its background work (outbox relay, purges,
    # sweeps); `panamia serve --no-background` turns it off where `panamia work` runs it.
    background_work: bool = Field(True, validation_alias="PANAMIA_BACKGROUND_WORK")

    # Never read from the environment: only `panamia dev` and the tests turn it on, so no
    # variable given to `panamia serve` can put sign-in links where anyone can read them.
    _dev_outbox: bool = PrivateAttr(False)
    # Where sign-in may send the browser back besides AUTH_URL and PETS_URL: the installed
    # sidecars' public URLs, handed over by the main app (never from the environment).
    _sidecar_urls: tuple[str, ...] = PrivateAttr(())

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _PublicUrls(env_settings), dotenv_settings,
                _PublicUrls(dotenv_settings), file_secret_settings)

    @field_validator("auth_url", "pets_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("public_urls")
    @classmethod
    def _no_trailing_slashes(cls, urls: dict[str, str]) -> dict[str, str]:
        return {name: url.rstrip("/") for name, url in urls.items()}

    def public_url(self, name: str, default: str) -> str:
        """The public URL of the service `name` (`<NAME>_URL`), else `default`."""
        return self.public_urls.get(name.lower(), default)

    def return_sign_ins_to(self, urls: Iterable[str]) -> None:
        """Let sign-in send the browser back to `urls` too (the main app gives the installed
        sidecars' public URLs)."""
        self._sidecar_urls = tuple(dict.fromkeys([*self._sidecar_urls, *urls]))

    @property
    def sign_in_return_urls(self) -> tuple[str, ...]:
        """Where, besides AUTH_URL, a sign-in may send the browser back afterwards."""
        return (self.pets_url, *self._sidecar_urls)

    @property
    def is_production(self) -> bool:
        return self.panamia_env == "production"

    @property
    def dev_outbox(self) -> bool:
        """Whether mail lands in the in-memory dev outbox instead of going out."""
        return self._dev_outbox and not self.smtp_url and not self.is_production

    def with_dev_outbox(self) -> "Settings":
        """These settings with the dev outbox on, for `panamia dev` and the tests."""
        if self.is_production:
            raise ConfigurationError("The dev outbox is for development and tests; "
                                     "PANAMIA_ENV is production.")
        copy = self.model_copy()
        copy._dev_outbox = True
        return copy

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.auth_url).scheme == "https"

    @property
    def admin_email_set(self) -> frozenset[str]:
        return frozenset(e.strip().lower() for e in self.admin_emails.split(",") if e.strip())

    @property
    def secret(self) -> str:
        if not self.auth_secret:
            raise ConfigurationError("AUTH_SECRET is not set")
        return self.auth_secret

    def oauth_clients(self) -> list[OAuthClient]:
        candidates = [
            ("github", self.auth_github_id, self.auth_github_secret, None),
            ("google", self.auth_google_id, self.auth_google_secret,
             "https://accounts.google.com"),
            ("oidc", self.auth_oidc_id, self.auth_oidc_secret, self.auth_oidc_issuer),
        ]
        return [
            OAuthClient(name, client_id, client_secret, issuer)
            for name, client_id, client_secret, issuer in candidates
            if client_id and client_secret and (name != "oidc" or issuer)
        ]

    def require_runtime(self) -> "Settings":
        """Check what a serving process needs; in development fill in a kept secret."""
        if self.is_production:
            missing = [
                name
                for name, value in (
                    ("AUTH_SECRET", self.auth_secret),
                    ("POSTGRES_URL", self.postgres_url),
                    ("MONGODB_URL", self.mongodb_url),
                    ("SMTP_URL", self.smtp_url),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    f"production needs {', '.join(missing)}: set "
                    + ("it" if len(missing) == 1 else "them")
                    + " in the environment (PANAMIA_ENV is production unless it says "
                    "development or test; `panamia dev` runs everything locally)."
                )
            if self.federation_allow_private_networks:
                raise ConfigurationError(
                    "FEDERATION_ALLOW_PRIVATE_NETWORKS is for development and tests: unset it "
                    "in production, where fetching private addresses would expose the network."
                )
            if len(self.auth_secret or "") < 32:
                raise ConfigurationError(
                    "AUTH_SECRET is too short for production: use at least 32 random characters "
                    "(for example `openssl rand -hex 32`)."
                )
        elif not self.auth_secret:
            self.auth_secret = kept_development_secret(self.panamia_data_dir)
        return self


class _PublicUrls:
    """The `<NAME>_URL` variables of the environment or of `.env` (`source`) as
    `public_urls`, for every name without a setting of its own (POSTGRES_URL stays out).
    Sources merge key by key, so EXCHANGE_URL in the environment overrides only that name
    in `.env`."""

    def __init__(self, source: EnvSettingsSource):
        self.source = source

    def __call__(self) -> dict[str, dict[str, str]]:
        urls = {
            variable.removesuffix("_url"): value
            for variable, value in self.source.env_vars.items()
            if variable.endswith("_url") and value and variable not in Settings.model_fields
        }
        return {"public_urls": urls} if urls else {}


def kept_development_secret(data_dir: Path) -> str:
    """A secret generated once per data dir, so restarts and both services agree on it.

    Written whole to a scratch file and linked into place, so two services starting at
    once agree on one value and a crash never leaves an empty secret behind.
    """
    path = data_dir / "auth_secret"
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
        path.unlink(missing_ok=True)  # left empty by an older version's crash
    data_dir.mkdir(parents=True, exist_ok=True)
    scratch = data_dir / f".auth_secret.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(scratch, path)
    except FileExistsError:
        pass  # another process linked its value first; read that one
    finally:
        scratch.unlink()
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
