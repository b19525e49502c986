"""Email for the notifications that need a member's action: at once, in a daily digest, or
not at all, as each member chooses; every mail with RFC 8058's one-click unsubscribe.

The relay queues a pending row when it delivers such a notification (`queue`, in its own
transaction). `send_due` then mails them: each member's row is taken FOR UPDATE SKIP LOCKED
and released only once the mail is sent, so any number of workers share the work and none
mails twice; a mail the server refuses is tried again in the next round. A digest goes at
most once per UTC day per member (`last_digest_on`).
"""

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.models import User
from panamia.identity.tokens import new_token, session_token_hash
from panamia.mail import OutgoingMail
from panamia.notifications import documents, repository, sentences
from panamia.notifications.models import (
    DAILY,
    INSTANT,
    OFF,
    EmailPreference,
    PendingEmail,
    UnsubscribeToken,
)
from panamia.notifications.schemas import ActivityBase
from panamia.resources import Resources
from panamia.settings import Settings

INTERVAL = 30.0  # seconds between rounds, give or take a quarter
logger = logging.getLogger(__name__)
_frequency = func.coalesce(EmailPreference.frequency, INSTANT)


async def queue(session: AsyncSession, notification_id: str, activity: ActivityBase) -> None:
    """Keep a notification that needs its recipient's action for mailing, unless they chose
    no mail. A replayed event queues nothing twice."""
    if not sentences.needs_action(activity.type, activity.object):
        return
    chose_off = exists().where(EmailPreference.user_id == activity.target_id,
                               EmailPreference.frequency == OFF)
    await session.execute(
        upsert(PendingEmail)
        .from_select(["notification_id", "user_id"],
                     select(literal(notification_id), literal(activity.target_id))
                     .where(~chose_off))
        .on_conflict_do_nothing()
    )


async def frequency_of(resources: Resources, user_id: str) -> str:
    async with resources.reads() as session:
        chosen = await session.scalar(
            select(EmailPreference.frequency).where(EmailPreference.user_id == user_id))
    return chosen or INSTANT


async def choose(session: AsyncSession, user_id: str, frequency: str) -> None:
    """Save the member's choice; choosing no mail drops what was waiting to be mailed."""
    await session.execute(
        upsert(EmailPreference).values(user_id=user_id, frequency=frequency)
        .on_conflict_do_update(index_elements=[EmailPreference.user_id],
                               set_={"frequency": frequency, "updated_at": func.now()})
    )
    if frequency == OFF:
        await session.execute(delete(PendingEmail).where(PendingEmail.user_id == user_id))


async def set_frequency(resources: Resources, user_id: str, frequency: str) -> None:
    async with resources.db.begin() as session:
        await choose(session, user_id, frequency)


def token_hash(settings: Settings, token: str) -> str:
    return session_token_hash(token, settings.secret)


async def unsubscribe(resources: Resources, token: str) -> bool:
    """Turn off the mail of the member the link was sent to; False for a link not ours."""
    async with resources.db.begin() as session:
        user_id = await session.scalar(select(UnsubscribeToken.user_id).where(
            UnsubscribeToken.token_hash == token_hash(resources.settings, token)))
        if user_id is None:
            return False
        await choose(session, user_id, OFF)
    logger.info("a member unsubscribed from notification mail by its link")
    return True


async def is_unsubscribe_link(resources: Resources, token: str) -> bool:
    async with resources.reads() as session:
        return await session.scalar(select(exists().where(
            UnsubscribeToken.token_hash == token_hash(resources.settings, token)))) or False


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str


async def _mail(session: AsyncSession, resources: Resources, to: Recipient, subject: str,
                lines: list[sentences.Sentence]) -> None:
    """Send one mail; its unsubscribe token is stored (hashed) in the caller's transaction."""
    token = new_token()
    await session.execute(insert(UnsubscribeToken).values(
        token_hash=token_hash(resources.settings, token), user_id=to.user_id))
    site = resources.settings.auth_url
    unsubscribe_url = f"{site}/unsubscribe/{token}"
    body = "\n\n".join(f"{line.text}\n{line.url}" if line.url else line.text for line in lines)
    text = (f"{body}\n\n--\nChoose how often Pana MIA emails you: {site}/account/email\n"
            f"Stop these emails: {unsubscribe_url}\n")
    await resources.mailer.send(OutgoingMail(
        to=to.email, subject=subject[:150], text=text,
        headers=(("List-Unsubscribe", f"<{unsubscribe_url}>"),
                 ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")),
    ))


async def _unread(resources: Resources, pending: list[str]) -> list[sentences.Sentence]:
    found = await repository.unread_among(resources.mongo, pending)
    return await sentences.describe_all(resources, [documents.from_document(d) for d in found])


async def send_one_instant(resources: Resources) -> bool:
    """Mail the oldest pending notification of a member who wants instant mail, unless it
    was read meanwhile; False when there is none left."""
    async with resources.db.begin() as session:
        row = (await session.execute(
            select(PendingEmail.notification_id, User.id, User.email)
            .join(User, User.id == PendingEmail.user_id)
            .outerjoin(EmailPreference, EmailPreference.user_id == User.id)
            .where(_frequency == INSTANT)
            .order_by(PendingEmail.created_at).limit(1)
            .with_for_update(of=PendingEmail, skip_locked=True)
        )).first()
        if row is None:
            return False
        notification_id, user_id, email = row
        lines = await _unread(resources, [notification_id])
        if lines:
            await _mail(session, resources, Recipient(user_id, email), lines[0].text, lines)
        await session.execute(
            delete(PendingEmail).where(PendingEmail.notification_id == notification_id))
    return True


async def send_one_digest(resources: Resources, today: date) -> bool:
    """Mail one member who chose a daily digest and has had none today what is waiting and
    still unread; False when no such member is left."""
    async with resources.db.begin() as session:
        row = (await session.execute(
            select(EmailPreference.user_id, User.email)
            .join(User, User.id == EmailPreference.user_id)
            .where(EmailPreference.frequency == DAILY,
                   or_(EmailPreference.last_digest_on.is_(None),
                       EmailPreference.last_digest_on < today),
                   exists().where(PendingEmail.user_id == EmailPreference.user_id))
            .limit(1)
            .with_for_update(of=EmailPreference, skip_locked=True)
        )).first()
        if row is None:
            return False
        user_id, email = row
        pending = list(await session.scalars(
            select(PendingEmail.notification_id).where(PendingEmail.user_id == user_id)))
        lines = await _unread(resources, pending)
        if lines:
            count = len(lines)
            subject = f"Pana MIA today: {count} thing{'s' if count != 1 else ''} waiting for you"
            await _mail(session, resources, Recipient(user_id, email), subject, lines)
            await session.execute(update(EmailPreference)
                                  .where(EmailPreference.user_id == user_id)
                                  .values(last_digest_on=today))
        await session.execute(delete(PendingEmail).where(
            and_(PendingEmail.user_id == user_id, PendingEmail.notification_id.in_(pending))))
    return True


async def send_due(resources: Resources, now: datetime | None = None) -> int:
    """Send every instant mail waiting and every digest due today; how many rows were
    handled."""
    today = (now or datetime.now(UTC)).date()
    handled = 0
    while await send_one_instant(resources):
        handled += 1
    while await send_one_digest(resources, today):
        handled += 1
    return handled


async def run_forever(resources: Resources, *, interval: float | None = None,
                      stop: asyncio.Event | None = None) -> None:
    """Mail what is due every `interval` seconds (default `INTERVAL`); a mail server or
    database outage costs a warning, and the next round tries again."""
    interval = interval or INTERVAL
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await send_due(resources)
        except Exception as exc:  # noqa: BLE001 - the next round retries
            logger.warning("notification mail not sent (%s); retrying in about %gs",
                           type(exc).__name__, interval)
        try:
            await asyncio.wait_for(stop.wait(), interval * random.uniform(0.75, 1.25))
        except TimeoutError:
            pass
