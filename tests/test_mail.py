"""Sign-in mail through real SMTP servers (aiosmtpd): TLS where it matters, and a clear 503
the person can retry when the server is down or refuses."""

import dataclasses
import socket
import ssl

import pytest
import trustme
from aiosmtpd.smtp import AuthResult

from panamia.apps.main import create_app
from panamia.errors import Unavailable
from panamia.mail import OutgoingMail, SmtpMailer, is_loopback
from tests.fixtures.http import asgi_client, submit, text_of
from tests.fixtures.servers import free_port, smtp_relay
from tests.identity.factories import request_link

MAIL = OutgoingMail(to="ana@example.org", subject="Sign in", text="https://x/?token=secret")
SENDER = "Pana MIA <no-reply@example.org>"
USER, PASSWORD = "panamia", "relay-password"


class Relay:
    """A mail server that records what reached it, and refuses while `refusal` is set."""

    def __init__(self):
        self.refusal: str | None = None
        self.commands: list[str] = []
        self.delivered: list = []  # (envelope, whether the session was encrypted)

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        self.commands.append("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.delivered.append((envelope, session.ssl is not None))
        return "250 OK"


def accept_the_relay_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(success=(auth_data.login, auth_data.password) == (USER.encode(),
                                                                         PASSWORD.encode()))


@pytest.fixture
def relay():
    """On 127.0.0.1, no STARTTLS."""
    with smtp_relay(Relay()) as controller:
        yield controller


@pytest.fixture
def this_machine() -> tuple[str, str]:
    """This machine's own name, which is not a loopback literal, and the address it names."""
    name = socket.gethostname()
    return name, socket.getaddrinfo(name, None, socket.AF_INET)[0][4][0]


@pytest.fixture
def plain_relay_by_name(this_machine):
    name, address = this_machine
    with smtp_relay(Relay(), address) as controller:
        yield name, controller


@pytest.fixture
def tls_relay_by_name(this_machine, tmp_path, monkeypatch):
    """Offers STARTTLS with a certificate for this machine's name, from an authority the
    mailer trusts through SSL_CERT_FILE, and takes the password only once encrypted."""
    name, address = this_machine
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(name).configure_cert(context)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with smtp_relay(Relay(), address, tls_context=context,
                    authenticator=accept_the_relay_password) as controller:
        yield name, controller


class TestWhichHostsAreLoopback:
    @pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1"])
    def test_loopback(self, host):
        assert is_loopback(host)

    @pytest.mark.parametrize("host", ["mail.example.org", "10.0.0.1", "localhost.example.org",
                                      "127.1"])
    def test_not_loopback(self, host):
        assert not is_loopback(host)


class TestTransportSecurity:
    async def test_a_named_host_that_offers_no_starttls_gets_nothing(self, plain_relay_by_name):
        name, controller = plain_relay_by_name
        mailer = SmtpMailer(f"smtp://{name}:{controller.port}", SENDER)
        with pytest.raises(Unavailable):
            await mailer.send(MAIL)
        assert controller.handler.commands == [] and controller.handler.delivered == []

    async def test_tls_off_in_the_url_sends_in_clear(self, plain_relay_by_name):
        name, controller = plain_relay_by_name
        await SmtpMailer(f"smtp://{name}:{controller.port}?tls=off", SENDER).send(MAIL)
        [(envelope, encrypted)] = controller.handler.delivered
        assert envelope.rcpt_tos == [MAIL.to] and not encrypted

    async def test_a_loopback_host_without_starttls_is_sent_to(self, relay):
        await SmtpMailer(f"smtp://localhost:{relay.port}", SENDER).send(MAIL)
        assert [envelope.rcpt_tos for envelope, _ in relay.handler.delivered] == [[MAIL.to]]

    async def test_starttls_carries_the_password_and_the_mail(self, tls_relay_by_name):
        name, controller = tls_relay_by_name
        await SmtpMailer(f"smtp://{USER}:{PASSWORD}@{name}:{controller.port}", SENDER).send(MAIL)
        [(envelope, encrypted)] = controller.handler.delivered
        assert encrypted and b"token=secret" in envelope.content


def app_mailing_through(settings, resources, port: int):
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", settings.mail_from)
    return create_app(settings, dataclasses.replace(resources, mailer=mailer))


class TestTheMailServerDownOrRefusing:
    async def test_a_closed_port_is_a_503_to_the_api(self, settings, resources):
        async with asgi_client(app_mailing_through(settings, resources, free_port())) as client:
            answer = await request_link(client, "ana@example.org")
        assert answer.status_code == 503
        assert answer.json() == {"error": "mail unavailable", "detail": (
            "The sign-in mail could not be sent just now. Ask for a link again in a moment.")}

    @pytest.mark.parametrize("refusal", ["451 4.3.0 Try again later", "550 5.7.1 Relay denied"])
    async def test_a_refusal_is_a_503_and_asking_again_works(self, settings, resources, relay,
                                                             refusal):
        relay.handler.refusal = refusal
        async with asgi_client(app_mailing_through(settings, resources, relay.port)) as client:
            refused = await request_link(client, "ana@example.org")
            relay.handler.refusal = None
            again = await request_link(client, "ana@example.org")
        assert (refused.status_code, again.status_code) == (503, 200)
        assert [envelope.rcpt_tos for envelope, _ in relay.handler.delivered] == [
            ["ana@example.org"]]

    async def test_the_sign_in_page_says_so_and_keeps_the_address(self, settings, resources,
                                                                   relay):
        relay.handler.refusal = "451 4.3.0 Try again later"
        async with asgi_client(app_mailing_through(settings, resources, relay.port)) as client:
            refused = await submit(client, "/signin", {"email": "ana@example.org"},
                                   page="/signin")
            relay.handler.refusal = None
            again = await submit(client, "/signin", {"email": "ana@example.org"},
                                 page="/signin")
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("text/html")
        assert "The sign-in mail could not be sent just now" in text_of(refused.text)
        assert 'value="ana@example.org"' in refused.text
        assert again.status_code == 200 and "Check your mail" in again.text
