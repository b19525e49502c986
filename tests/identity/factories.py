"""Users and signed-in clients, made through the same code paths people use."""

import re
import uuid
from email.message import EmailMessage
from html import unescape

import httpx
from sqlalchemy import insert

from panamia.db.postgres import new_id
from panamia.identity import cookies, service
from panamia.identity.models import User
from panamia.resources import Resources


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


async def create_user(resources: Resources, *, email: str | None = None, **values) -> str:
    user_id = new_id()
    async with resources.db.begin() as db:
        await db.execute(insert(User).values(id=user_id, email=email or unique_email(), **values))
    return user_id


async def sign_in_as(client: httpx.AsyncClient, resources: Resources, user_id: str) -> str:
    """Give `client` a session cookie for `user_id`; returns the raw token."""
    async with resources.db.begin() as db:
        new = await service.start_session(db, resources, user_id)
    client.cookies.set(cookies.session_cookie_name(resources.settings), new.token)
    return new.token


async def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    token = (await client.get("/api/auth/csrf")).json()["csrfToken"]
    return {"X-CSRF-Token": token}


async def request_link(client: httpx.AsyncClient, email: str, **extra) -> httpx.Response:
    """Ask for a sign-in link by email, as the sign-in page does."""
    return await client.post("/api/auth/signin/email", json={"email": email, **extra},
                             headers=await csrf_headers(client))


LINK = re.compile(r"(http\S+/api/auth/callback/email\?\S+)")
HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
HTML = {"Accept": "text/html"}


def magic_link(mail: EmailMessage) -> str:
    return LINK.search(mail.get_content()).group(1)


async def press_sign_in(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open a sign-in link as a browser does, then press the page's button; the POST's answer."""
    page = await client.get(link.removeprefix(str(client.base_url)), headers=HTML)
    assert page.status_code == 200, page.text
    fields = {name: unescape(value) for name, value in HIDDEN_FIELD.findall(page.text)}
    return await client.post("/api/auth/callback/email", data=fields, headers=HTML)
