"""Sending mail: SMTP when SMTP_URL is set, else (outside production) a dev outbox to read."""

import asyncio
import logging
import smtplib
import ssl
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from panamia.settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    link: str | None = None


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


class SmtpMailer:
    """SMTP_URL: `smtp://user:pass@host:587` (STARTTLS when offered), `smtps://…:465` for TLS."""

    def __init__(self, url: str, sender: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(f"SMTP_URL must look like smtp://user:pass@host:port, not {url!r}")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.require_starttls = parse_qs(parts.query).get("starttls") == ["required"]
        self.sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.to_thread(self._send_blocking, mail)

    def _send_blocking(self, mail: OutgoingMail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        context = ssl.create_default_context()
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, context=context, timeout=15)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=15)
        with client:
            client.ehlo()
            if not self.implicit_tls and (client.has_extn("starttls") or self.require_starttls):
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


@dataclass(frozen=True)
class OutboxEntry:
    to: str
    subject: str
    link: str | None
    sent_at: datetime


class DevOutbox:
    """Keeps the last mails in memory for `GET /api/dev/outbox`; never used in production."""

    def __init__(self, size: int = 100):
        self.entries: deque[OutboxEntry] = deque(maxlen=size)

    async def send(self, mail: OutgoingMail) -> None:
        self.entries.appendleft(OutboxEntry(mail.to, mail.subject, mail.link, datetime.now(UTC)))
        logger.info("dev outbox: mail to %s, sign-in link %s", mail.to, mail.link)


def create_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    if settings.is_production:
        raise ConfigurationError("PANAMIA_ENV=production needs SMTP_URL to send sign-in links.")
    return DevOutbox()
