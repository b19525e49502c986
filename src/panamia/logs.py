"""Logging that never carries a token: query strings and cookies are redacted at the source."""

import copy
import logging
import re
from typing import Any

_SECRETS = re.compile(
    r"(?P<key>(?:token|code|state|csrfToken|session-token|sessionToken)[=:]\s*)"
    r"(?P<value>[^&\s\"';,]+)",
    re.IGNORECASE,
)
# Our own code never logs a token; the servers' loggers echo request lines with query strings.
_REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _SECRETS.sub(r"\g<key>[redacted]", text)


class RedactTokens(logging.Filter):
    """Redacts inside the record's arguments, so formatters that read them keep working.

    Uvicorn's access formatter unpacks `record.args` (client, method, path, version, status);
    flattening the record into a pre-formatted message would make it fail and drop the line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if redact(message) == message:
            return True
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        try:
            still_leaking = redact(record.getMessage()) != record.getMessage()
        except (TypeError, ValueError):
            still_leaking = True
        if still_leaking:  # a secret split between the format and its arguments
            record.msg, record.args = redact(message), ()
        return True


def install_redaction() -> None:
    """For any server that runs our apps: filter the loggers that echo request lines."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's own logging, with redaction on its handlers and our `panamia` loggers at INFO.

    The `panamia` handler is not redacted: under `panamia dev` the dev outbox logs its
    sign-in link on purpose, so `panamia dev` shows where to click.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "panamia.logs.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    config["handlers"]["panamia"] = {
        "formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr",
    }
    config["loggers"]["panamia"] = {"handlers": ["panamia"], "level": "INFO", "propagate": False}
    return config
