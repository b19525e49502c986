"""Logging that never carries a token: query strings and cookies are redacted at the source.
With PANAMIA_LOG_FORMAT=json every line is one JSON object carrying the request's id."""

import copy
import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from panamia import requestids
from panamia.settings import get_settings

# A query's secrets, and the token in a notification mail's unsubscribe link's path.
_SECRETS = re.compile(
    r"(?P<key>(?:token|code|state|csrfToken|session-token|sessionToken)[=:]\s*|/unsubscribe/)"
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


class RequestId(logging.Filter):
    """Puts the id of the request being served on the record, unless it carries its own (the
    relay logs the id of the request that enqueued an event)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = requestids.current()
        return True


ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLines(JsonFormatter):
    """One JSON object a line: time, level, logger, process, message, request_id, any `extra` the
    call gave, and for uvicorn's access lines their parts as fields. The whole line is
    redacted once more, so a token can reach it through no field."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                         rename_fields={"asctime": "time", "levelname": "level",
                                        "name": "logger"})

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.pop("color_message", None)  # uvicorn's message again, with terminal colours
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
                and len(record.args) == len(ACCESS_FIELDS):
            log_data.update(zip(ACCESS_FIELDS, record.args, strict=True))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def install_redaction() -> None:
    """For any server that runs our apps: filter the loggers that echo request lines."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's own logging, with redaction on its handlers and our `panamia` loggers at INFO;
    JSON lines on every handler when PANAMIA_LOG_FORMAT says `json`.

    In text, the `panamia` handler is not redacted: under `panamia dev` the dev outbox logs
    its sign-in link on purpose, so `panamia dev` shows where to click. JSON lines are for
    machines, and redacted whole.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "panamia.logs.RedactTokens"}
    config["filters"]["request_id"] = {"()": "panamia.logs.RequestId"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    config["handlers"]["panamia"] = {
        "formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr",
    }
    config["loggers"]["panamia"] = {"handlers": ["panamia"], "level": "INFO", "propagate": False}
    if get_settings().panamia_log_format == "json":
        config["formatters"]["json"] = {"()": "panamia.logs.JsonLines"}
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
            handler.setdefault("filters", []).append("request_id")
    return config
