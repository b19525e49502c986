"""Sending mail: SMTP when SMTP_URL is set; under `panamia dev` and in tests, a dev outbox."""

import asyncio
import ipaddress
import logging
import smtplib
import ssl
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from panamia.errors import Unavailable
from panamia.settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)
NOT_SENT = "The sign-in mail could not be sent just now. Ask for a link again in a moment."


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    link: str | None = None
    # Extra header fields, e.g. RFC 8058's `List-Unsubscribe` and `List-Unsubscribe-Post`.
    headers: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address as written (127.0.0.0/8, ::1). The host is never
    resolved to decide: a name could resolve to this machine when checked and elsewhere when
    connected to."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InsecureTransport(smtplib.SMTPException):
    """The server offers no STARTTLS, and the password and sign-in links must not go in clear."""


class SmtpMailer:
    """SMTP_URL: `smtp://user:pass@host:587` (STARTTLS required unless the host is loopback or
    the URL ends in `?tls=off`), or `smtps://user:pass@host:465` for TLS from the start."""

    def __init__(self, url: str, sender: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                f"SMTP_URL must look like smtp://user:pass@host:port, not {url!r}")
        options = parse_qs(parts.query, keep_blank_values=True)
        if options and options != {"tls": ["off"]}:
            raise ConfigurationError(f"SMTP_URL takes one option, ?tls=off, not ?{parts.query}")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = not self.implicit_tls and not options
        self.require_starttls = self.starttls and not is_loopback(self.host)
        self.sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        """Raises Unavailable (503) when the server cannot be reached, refuses the mail, or
        cannot be spoken to safely; the person may simply ask again."""
        try:
            await asyncio.to_thread(self._send_blocking, mail)
        except OSError as exc:  # smtplib's errors, TLS errors and timeouts are all OSErrors
            logger.error("mail not sent through the SMTP server %s:%s: %s: %s", self.host,
                         self.port, type(exc).__name__, exc)
            raise Unavailable(NOT_SENT, error="mail unavailable") from None

    def _send_blocking(self, mail: OutgoingMail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.text)
        context = ssl.create_default_context()
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, context=context, timeout=15)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=15)
        with client:
            client.ehlo()
            if self.starttls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif self.require_starttls:
                raise InsecureTransport(
                    "the server offers no STARTTLS, so the password and sign-in links would "
                    "travel in clear; use a server that offers it, smtps://, or add ?tls=off "
                    "to SMTP_URL on a network you trust"
                )
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
    """Keeps the last mails in memory for `GET /api/dev/outbox`: only under `panamia dev` and
    in tests (`Settings.with_dev_outbox`), never in production."""

    def __init__(self, size: int = 100):
        self.entries: deque[OutboxEntry] = deque(maxlen=size)

    async def send(self, mail: OutgoingMail) -> None:
        self.entries.appendleft(OutboxEntry(mail.to, mail.subject, mail.link, datetime.now(UTC)))
        logger.info("dev outbox: mail to %s, sign-in link %s", mail.to, mail.link)


class NoTransport:
    """Without SMTP_URL or the dev outbox (a process that sends no mail, or one started
    outside production without SMTP_URL): every mail is refused."""

    async def send(self, mail: OutgoingMail) -> None:
        logger.error("mail not sent: SMTP_URL is not set")
        raise Unavailable(NOT_SENT, error="mail unavailable")


def create_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    if settings.dev_outbox:
        return DevOutbox()
    return NoTransport()
