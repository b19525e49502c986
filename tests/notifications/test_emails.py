"""Email about what needs a member's answer, through the outbox and a real SMTP server
(aiosmtpd): instant, daily or never, each mail with RFC 8058's one-click unsubscribe."""

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from panamia.notifications import emails
from panamia.notifications.models import EmailPreference, PendingEmail, UnsubscribeToken
from panamia import purge
from panamia.logs import RedactTokens
from panamia.identity import account
from panamia.notifications.schemas import ActivityObject, Invite, Like, Offer
from tests.fixtures.http import BROWSER, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as, unique_email
from tests.notifications.factories import delivered
from tests.profiles.factories import create_member

TOKEN = re.compile(r"/unsubscribe/([0-9a-f]{64})")


def booking_request(actor: str, target: str, booking_id: str = "b1") -> Offer:
    return Offer(actor_id=actor, target_id=target, object=ActivityObject(
        type="Booking", id=booking_id, url=f"/bookings/{booking_id}",
        name="Cats among the books for 3–5 Dec"))


def invitation(actor: str, target: str) -> Invite:
    return Invite(actor_id=actor, target_id=target, object=ActivityObject(
        type="Article", id="our-street", url="/articles/our-street", name="Our street"))


async def member(resources, name: str) -> tuple[str, str]:
    address = unique_email()
    return await create_member(resources, name=name, email=address), address


def unsubscribe_path(message) -> str:
    header = message["List-Unsubscribe"]
    return "/unsubscribe/" + TOKEN.search(header).group(1)


async def test_an_instant_mail_arrives_with_both_unsubscribe_headers(resources, mailbox):
    me, address = await member(resources, "Tomás")
    ana, _ = await member(resources, "Ana")
    await delivered(resources, booking_request(ana, me), Like(
        actor_id=ana, target_id=me, object=ActivityObject(type="Article", id="a1")))
    await emails.send_due(resources)

    [mail] = mailbox.to(address)
    assert mail["Subject"] == "Ana asked to book Cats among the books for 3–5 Dec."
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://testserver/unsubscribe/[0-9a-f]{64}>",
                        mail["List-Unsubscribe"])
    body = mail.get_content()
    assert "http://pets.testserver/bookings/b1" in body
    assert "session" not in body.lower() and "token=" not in body
    async with resources.reads() as session:
        stored = list(await session.scalars(select(UnsubscribeToken.token_hash)))
    assert unsubscribe_path(mail).rsplit("/", 1)[1] not in stored  # only its hash is kept
    await emails.send_due(resources)
    assert len(mailbox.to(address)) == 1


async def test_one_click_post_without_cookies_turns_mail_off_and_a_get_does_not(
        client, resources, mailbox, caplog):
    me, address = await member(resources, "Tomás")
    ana, _ = await member(resources, "Ana")
    await delivered(resources, invitation(ana, me))
    await emails.send_due(resources)
    [mail] = mailbox.to(address)
    path = unsubscribe_path(mail)

    asked = await client.get(path, headers=BROWSER)
    assert asked.status_code == 200 and "<form method=\"post\"" in asked.text
    assert await emails.frequency_of(resources, me) == "instant"

    client.cookies.clear()
    answer = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert "no more emails" in text_of(answer.text)
    assert await emails.frequency_of(resources, me) == "off"
    assert path.rsplit("/", 1)[1] not in caplog.text

    await delivered(resources, invitation(ana, me))
    await emails.send_due(resources)
    assert len(mailbox.to(address)) == 1
    forged = await client.post("/unsubscribe/" + "0" * 64)
    assert forged.status_code == 404


async def test_off_sends_nothing(client, resources, mailbox):
    me, address = await member(resources, "Tomás")
    ana, _ = await member(resources, "Ana")
    await sign_in_as(client, resources, me)
    chose = await client.put("/api/notifications/email", json={"frequency": "off"},
                             headers=await csrf_headers(client))
    assert chose.json() == {"frequency": "off"}
    await delivered(resources, booking_request(ana, me), invitation(ana, me))
    await emails.send_due(resources)
    assert mailbox.to(address) == []


async def test_a_choice_that_is_not_one_is_a_clear_422(client, resources):
    await sign_in_as(client, resources, await create_user(resources))
    answer = await client.put("/api/notifications/email", json={"frequency": "hourly"},
                              headers=await csrf_headers(client))
    assert answer.status_code == 422
    assert "frequency" in answer.text
    page = await client.post("/account/email", data={"frequency": "hourly",
                             **{"csrfToken": (await csrf_headers(client))["X-CSRF-Token"]}},
                             headers=BROWSER)
    assert page.status_code == 422
    assert "Choose how often we may email you" in text_of(page.text)


async def test_the_settings_page_saves_the_choice(client, resources):
    me = await create_user(resources)
    await sign_in_as(client, resources, me)
    form = await client.get("/account/email", headers=BROWSER)
    assert 'value="instant" checked' in form.text
    token = (await csrf_headers(client))["X-CSRF-Token"]
    saved = await client.post("/account/email", data={"frequency": "daily", "csrfToken": token},
                              headers=BROWSER, follow_redirects=True)
    assert "one email a day" in text_of(saved.text)
    assert 'value="daily" checked' in saved.text


async def test_the_digest_goes_once_a_day_even_run_concurrently(committed, mailbox):
    me, address = await member(committed, "Tomás")
    ana, _ = await member(committed, "Ana")
    await emails.set_frequency(committed, me, "daily")
    await delivered(committed, booking_request(ana, me, "b1"), booking_request(ana, me, "b2"))
    assert mailbox.to(address) == []  # nothing instant

    now = datetime.now(UTC)
    await asyncio.gather(*(emails.send_due(committed, now) for _ in range(4)))
    await emails.send_due(committed, now)
    [digest] = mailbox.to(address)
    assert digest["Subject"] == "Pana MIA today: 2 things waiting for you"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert digest.get_content().count("asked to book") == 2

    await delivered(committed, booking_request(ana, me, "b3"))
    await emails.send_due(committed, now)
    assert len(mailbox.to(address)) == 1  # the next one waits for tomorrow
    await emails.send_due(committed, now + timedelta(days=1))
    assert len(mailbox.to(address)) == 2


async def test_account_deletion_removes_it_all(resources, mailbox):
    me, address = await member(resources, "Tomás")
    ana, _ = await member(resources, "Ana")
    await emails.set_frequency(resources, me, "daily")
    await delivered(resources, booking_request(ana, me))
    await account.delete_account(resources, me)
    async with resources.reads() as session:
        for table in (EmailPreference, PendingEmail, UnsubscribeToken):
            assert (await session.scalars(select(table).where(table.user_id == me))).all() == []


async def test_the_purge_forgets_unsubscribe_links_after_a_year(resources, mailbox):
    me, address = await member(resources, "Tomás")
    ana, _ = await member(resources, "Ana")
    await delivered(resources, invitation(ana, me))
    await emails.send_due(resources)
    now = datetime.now(UTC)
    assert (await purge.purge(resources.db, resources.settings, now))[
        "old unsubscribe links"] == 0
    deleted = await purge.purge(resources.db, resources.settings, now + timedelta(days=366))
    assert deleted["old unsubscribe links"] == 1
    assert not await emails.is_unsubscribe_link(resources, unsubscribe_path(
        mailbox.to(address)[0]).rsplit("/", 1)[1])


def test_the_access_log_never_shows_an_unsubscribe_token():
    token = "ab" * 32
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "POST",
                               f"/unsubscribe/{token}", "1.1", 200), None)
    RedactTokens().filter(record)
    assert token not in record.getMessage()
    assert "POST /unsubscribe/[redacted]" in record.getMessage()


async def test_workers_sending_at_once_mail_each_notification_once(committed, mailbox):
    me, address = await member(committed, "Tomás")
    ana, _ = await member(committed, "Ana")
    await delivered(committed, *[booking_request(ana, me, f"b{i}") for i in range(3)])
    await asyncio.gather(*(emails.send_due(committed) for _ in range(4)))
    assert len(mailbox.to(address)) == 3
