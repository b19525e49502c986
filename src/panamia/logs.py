"""Logging that never carries a token: query strings and cookies are redacted at the source."""

import logging
import re

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
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_redaction() -> None:
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
