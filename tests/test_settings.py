"""What an operator sees when configuration is missing, and the kept development secret."""

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from panamia.settings import ConfigurationError, Settings

PRODUCTION = {
    "PANAMIA_ENV": "production",
    "AUTH_SECRET": "p" * 48,
    "POSTGRES_URL": "postgresql://nobody@127.0.0.1:9/panamia",
    "MONGODB_URL": "mongodb://127.0.0.1:9/",
    "SMTP_URL": "smtp://127.0.0.1:9",
}
DEVELOPMENT = {"panamia_env": "development", "_env_file": None}
CONFIG_NAMES = ("PANAMIA_", "AUTH_", "POSTGRES_", "MONGODB_", "SMTP_", "ADMIN_EMAILS", "MAIL_FROM")


def serve_main(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """`panamia serve main` with only the given configuration, from a directory without .env."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_NAMES)}
    clean["PANAMIA_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "panamia", "serve", "main", "--port", "9"],
        env=clean | env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )


class TestServeRefusesAnIncompleteConfiguration:
    @pytest.mark.parametrize("missing", ["AUTH_SECRET", "POSTGRES_URL", "SMTP_URL"])
    def test_production_names_the_missing_variable_in_one_line(self, tmp_path, missing):
        env = {k: v for k, v in PRODUCTION.items() if k != missing}
        result = serve_main(tmp_path, **env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0
        assert len(lines) == 1, result.stderr
        assert missing in lines[0] and lines[0].startswith("error:")
        assert "Traceback" not in result.stdout + result.stderr
        assert not (tmp_path / "data" / "auth_secret").exists()

    def test_production_refuses_a_short_secret(self, tmp_path):
        result = serve_main(tmp_path, **(PRODUCTION | {"AUTH_SECRET": "changeme"}))
        assert result.returncode != 0
        assert result.stderr.strip().splitlines() == [
            "error: AUTH_SECRET is too short for production: use at least 32 random characters "
            "(for example `openssl rand -hex 32`)."
        ]

    def test_without_panamia_env_it_is_production_and_names_all_that_is_missing(self, tmp_path):
        result = serve_main(tmp_path)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0
        assert len(lines) == 1 and lines[0].startswith("error: production needs"), result.stderr
        for name in ("AUTH_SECRET", "POSTGRES_URL", "MONGODB_URL", "SMTP_URL"):
            assert name in lines[0]
        assert not (tmp_path / "data" / "auth_secret").exists()

    def test_without_panamia_env_a_missing_smtp_url_stops_it(self, tmp_path):
        env = {k: v for k, v in PRODUCTION.items() if k not in ("PANAMIA_ENV", "SMTP_URL")}
        result = serve_main(tmp_path, **env)
        assert result.returncode != 0
        assert result.stderr.startswith("error: production needs SMTP_URL: set it")

    def test_an_unknown_smtp_option_is_named_before_starting(self, tmp_path):
        result = serve_main(tmp_path,
                            **(PRODUCTION | {"SMTP_URL": "smtp://mail.example:587?tls=of"}))
        assert result.returncode != 0
        assert result.stderr.strip().splitlines() == [
            "error: SMTP_URL takes one option, ?tls=off, not ?tls=of"
        ]

    def test_a_misspelt_environment_is_one_line_not_a_traceback(self, tmp_path):
        result = serve_main(tmp_path, **(PRODUCTION | {"PANAMIA_ENV": "prod"}))
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0
        assert len(lines) == 1 and "PANAMIA_ENV" in lines[0], result.stderr


class TestDevelopmentSecret:
    @pytest.fixture(autouse=True)
    def _no_configuration_from_the_environment(self, monkeypatch):
        for name in [k for k in os.environ if k.startswith(CONFIG_NAMES)]:
            monkeypatch.delenv(name)

    def test_generated_once_into_the_data_dir_and_read_back(self, tmp_path):
        first = Settings(panamia_data_dir=tmp_path, **DEVELOPMENT).require_runtime()
        kept = tmp_path / "auth_secret"
        assert len(first.secret) >= 32
        assert kept.read_text().strip() == first.secret
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600

        again = Settings(panamia_data_dir=tmp_path, **DEVELOPMENT).require_runtime()
        assert again.secret == first.secret

    def test_services_starting_together_agree_on_one_secret(self, tmp_path):
        """Twenty fresh data dirs, sixteen racing starts each: one value per dir, no debris."""
        def start(data_dir):
            return Settings(panamia_data_dir=data_dir, **DEVELOPMENT).require_runtime().secret

        with ThreadPoolExecutor(8) as pool:
            for round_ in range(20):
                data_dir = tmp_path / str(round_)
                assert len(set(pool.map(start, [data_dir] * 16))) == 1
                assert [p.name for p in data_dir.iterdir()] == ["auth_secret"]

    def test_a_given_secret_is_used_and_nothing_is_written(self, tmp_path):
        settings = Settings(panamia_data_dir=tmp_path, auth_secret="given-" + "g" * 40,
                            **DEVELOPMENT).require_runtime()
        assert settings.secret == "given-" + "g" * 40
        assert list(tmp_path.iterdir()) == []

    def test_production_never_generates_one(self, tmp_path):
        settings = Settings(**{k.lower(): v for k, v in PRODUCTION.items() if k != "AUTH_SECRET"},
                            panamia_data_dir=tmp_path, _env_file=None)
        with pytest.raises(ConfigurationError, match="AUTH_SECRET"):
            settings.require_runtime()
        assert list(tmp_path.iterdir()) == []
