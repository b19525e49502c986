"""Identity use cases: email sign-in, sessions, sign-out, screennames. Each is one transaction."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia import metrics
from panamia.db.postgres import new_id, violation
from panamia.errors import Conflict, DomainError, Invalid, TooManyRequests
from panamia.identity import ratelimit
from panamia.identity.dependencies import SESSION_MAX_AGE, absolute_end
from panamia.identity.emails import normalize_email
from panamia.identity.models import Session, User, VerificationToken
from panamia.identity.redirects import same_site_target
from panamia.identity.screennames import screenname_problem, screenname_skeleton
from panamia.identity.tokens import new_token, session_token_hash, verification_token_hash
from panamia.mail import OutgoingMail
from panamia.resources import Resources

MAGIC_LINK_MAX_AGE = timedelta(hours=24)
TOO_SIMILAR = "That name is too similar to an existing one."
USER_AGENT_MAX_LENGTH = 256
SIGN_IN_LIMIT_WINDOW = timedelta(hours=1)
TOO_MANY_LINKS = "Too many sign-in links were asked for. Links already sent still work."


class VerificationFailed(DomainError):
    status = 400
    error = "Verification"


@dataclass(frozen=True)
class NewSession:
    token: str
    expires: datetime
    user_id: str


def callback_target(resources: Resources, callback_url: str | None) -> str:
    settings = resources.settings
    return same_site_target(callback_url, settings.auth_url,
                            allowed_origins=settings.sign_in_return_urls)


async def request_email_sign_in(
    resources: Resources, email: str, callback_url: str | None, *, client: str
):
    """Mail a single-use link. Known and unknown addresses take the same path, limits
    included: so many links an hour per address and per `client` (its network address)."""
    settings = resources.settings
    identifier = normalize_email(email)
    raw = new_token()
    now = datetime.now(UTC)
    async with resources.db.begin() as db:
        for limit, key, allowed in (
            ("client", f"signin:client:{client}", settings.signin_limit_per_client),
            ("address", f"signin:email:{identifier}", settings.signin_limit_per_address),
        ):
            try:
                await ratelimit.hit(db, key, ratelimit.Limit(allowed, SIGN_IN_LIMIT_WINDOW), now,
                                    refusal=TOO_MANY_LINKS)
            except TooManyRequests:
                metrics.SIGNIN_MAILS_REFUSED.labels(limit).inc()
                raise
        await db.execute(
            insert(VerificationToken).values(
                identifier=identifier,
                token=verification_token_hash(raw, settings.secret),
                expires=now + MAGIC_LINK_MAX_AGE,
            )
        )
    query = urlencode({
        "callbackUrl": callback_target(resources, callback_url), "token": raw, "email": identifier,
    })
    link = f"{settings.auth_url}/api/auth/callback/email?{query}"
    await resources.mailer.send(OutgoingMail(
        to=identifier,
        subject="Sign in to Pana MIA",
        text=f"Sign in to Pana MIA with this link:\n\n{link}\n\n"
             "It works once, for 24 hours. If you did not ask for it, ignore this mail.",
        link=link,
    ))
    metrics.SIGNIN_MAILS_SENT.inc()


def device_label(user_agent: str | None) -> str | None:
    """The User-Agent kept for the list of signed-in devices: printable and bounded."""
    if not user_agent:
        return None
    return "".join(c for c in user_agent if c.isprintable())[:USER_AGENT_MAX_LENGTH] or None


async def start_session(
    db: AsyncSession, resources: Resources, user_id: str, user_agent: str | None = None
) -> NewSession:
    raw = new_token()
    now = datetime.now(UTC)
    expires = min(now + SESSION_MAX_AGE, absolute_end(now, resources.settings))
    await db.execute(insert(Session).values(
        id=new_id(), user_id=user_id, expires=expires, created_at=now, last_seen_at=now,
        user_agent=device_label(user_agent),
        session_token=session_token_hash(raw, resources.settings.secret),
    ))
    return NewSession(raw, expires, user_id)


async def end_session(db: AsyncSession, resources: Resources, raw: str | None) -> None:
    if raw:
        token_hash = session_token_hash(raw, resources.settings.secret)
        await db.execute(delete(Session).where(Session.session_token == token_hash))


async def complete_email_sign_in(
    resources: Resources, email: str, token: str, previous_session: str | None,
    user_agent: str | None = None,
) -> NewSession:
    """Consume the link (once), create the user on first sign-in, start a fresh session."""
    settings = resources.settings
    try:
        identifier = normalize_email(email)
    except Invalid as exc:
        raise VerificationFailed("This sign-in link is malformed. Ask for a new one.") from exc
    now = datetime.now(UTC)
    async with resources.db.begin() as db:
        expires = (await db.execute(
            delete(VerificationToken)
            .where(VerificationToken.identifier == identifier,
                   VerificationToken.token == verification_token_hash(token, settings.secret))
            .returning(VerificationToken.expires)
        )).scalar_one_or_none()
        if expires is None or expires <= now:
            raise VerificationFailed(
                "This sign-in link is invalid, expired or already used. Ask for a new one."
            )
        user_id = (await db.execute(
            pg_insert(User)
            .values(id=new_id(), email=identifier, email_verified=now)
            .on_conflict_do_update(
                index_elements=[func.lower(User.email)],
                set_={"email_verified": now, "updated_at": now},
            )
            .returning(User.id)
        )).scalar_one()
        await end_session(db, resources, previous_session)
        return await start_session(db, resources, user_id, user_agent)


async def sign_out(resources: Resources, raw: str | None) -> None:
    async with resources.db.begin() as db:
        await end_session(db, resources, raw)


async def screenname_availability(resources: Resources, name: str) -> tuple[bool, str | None]:
    if problem := screenname_problem(name):
        return False, problem
    async with resources.reads() as db:
        holders = set((await db.execute(
            select(func.lower(User.screenname)).where(or_(
                func.lower(User.screenname) == name.lower(),
                User.screenname_skeleton == screenname_skeleton(name),
            ))
        )).scalars())
    if not holders:
        return True, None
    return False, "That name is taken." if name.lower() in holders else TOO_SIMILAR


async def set_screenname(resources: Resources, user_id: str, name: str) -> str:
    """Case and look-alikes are told apart by the database's unique indexes, not by a read
    first, so two people racing for look-alike names cannot both win."""
    if problem := screenname_problem(name):
        raise Invalid(problem, fields=["screenname"])
    try:
        async with resources.db.begin() as db:
            await db.execute(
                update(User).where(User.id == user_id).values(
                    screenname=name.lower(), screenname_skeleton=screenname_skeleton(name),
                    updated_at=func.now(),
                )
            )
    except IntegrityError as exc:
        sqlstate, constraint = violation(exc)
        if sqlstate == "23505" and constraint == "uq_users_screenname_skeleton":
            raise Conflict(TOO_SIMILAR, error="screenname too similar") from exc
        if sqlstate == "23505":
            raise Conflict("That screenname is taken.", error="screenname taken") from exc
        raise
    return name.lower()
