"""Identity's bodies and answers at the HTTP edge, and how content shows a person."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from panamia.identity.dependencies import Principal
from panamia.schemas import Schema


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# A screenname to look up (path or query), compared in PostgreSQL, whose text cannot hold NUL.
ScreennameLookup = Annotated[str, AfterValidator(_no_nul)]


class EmailSignIn(Schema):
    email: str = Field(max_length=320, description="Where to send the sign-in link")
    callback_url: str | None = Field(None, max_length=2048)
    csrf_token: str | None = None


class Person(Schema):
    """Someone as others see them: never the email."""

    id: str
    screenname: str | None
    name: str | None


class SessionUser(Schema):
    """The signed-in user, as the session answers and the own profile shows them."""

    id: str
    email: str
    name: str | None
    image: str | None
    screenname: str | None
    role: str
    is_admin: bool

    @classmethod
    def of(cls, principal: Principal) -> "SessionUser":
        """The edge shape of the request's principal (which also holds its session)."""
        return cls.model_validate(principal, from_attributes=True)


class SessionInfo(Schema):
    user: SessionUser
    expires: datetime


class CsrfToken(Schema):
    csrf_token: str


class Sent(Schema):
    sent: bool = True
    detail: str = "If the address can receive mail, a sign-in link is on its way."


class ScreennameCheck(Schema):
    available: bool
    reason: str | None


class ScreennameUpdate(Schema):
    screenname: str = Field(max_length=64)


class OutboxMail(Schema):
    to: str
    subject: str
    link: str | None
    sent_at: datetime
