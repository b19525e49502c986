from datetime import datetime

from pydantic import Field

from panamia.schemas import Schema


class EmailSignIn(Schema):
    email: str = Field(max_length=320, description="Where to send the sign-in link")
    callback_url: str | None = Field(None, max_length=2048)
    csrf_token: str | None = None


class SessionUser(Schema):
    id: str
    email: str
    name: str | None
    image: str | None
    screenname: str | None
    role: str
    is_admin: bool


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
