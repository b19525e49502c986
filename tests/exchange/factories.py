"""Members of the exchange with money and a signed-in client each, listings of every kind,
and what the ledger holds, read back."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import text

from panamia.db.postgres import new_id
from panamia.ledger import accounts, journal
from panamia.ledger.providers import manual
from panamia.resources import Resources
from tests.fixtures.http import asgi_client, signed_in_cookies
from tests.identity.factories import create_user

BASE = {"category": "bikes", "condition": "good", "city": "Miami"}


@dataclass
class Member:
    id: str
    http: httpx.AsyncClient
    headers: dict[str, str]

    async def post(self, path: str, json: dict | None = None, **headers) -> httpx.Response:
        return await self.http.post(path, json=json, headers={**self.headers, **headers})

    async def get(self, path: str, **params) -> httpx.Response:
        return await self.http.get(path, params=params)


async def deposit(resources: Resources, user_id: str, amount: str) -> None:
    async with resources.db.begin() as session:
        await manual.deposit(session, user_id=user_id, amount=Decimal(amount), currency="USD",
                             reference=new_id(), recorded_by=None)


@asynccontextmanager
async def member(app, resources: Resources, *, money: str = "1000.00",
                 **user) -> AsyncIterator[Member]:
    """A signed-in member with `money` available, and a client of `app` acting as them."""
    user_id = await create_user(resources, **user)
    if Decimal(money):
        await deposit(resources, user_id, money)
    cookies, headers = await signed_in_cookies(resources, user_id)
    async with asgi_client(app) as client:
        client.cookies.update(cookies)
        yield Member(user_id, client, headers)


async def available(resources: Resources, user_id: str) -> Decimal:
    async with resources.reads() as session:
        return await journal.balance(session, accounts.available(user_id), "USD")


async def held(resources: Resources, ref_type: str, ref_id: str) -> Decimal:
    async with resources.reads() as session:
        return await journal.balance(session, accounts.escrow(ref_type, ref_id), "USD")


async def fees(resources: Resources) -> Decimal:
    async with resources.reads() as session:
        return await journal.balance(session, accounts.fees(), "USD")


def sale(**terms) -> dict:
    return {**BASE, "kind": "sale", "title": "Road bike", "price": "100.00"} | terms


def auction(**terms) -> dict:
    ends = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return {**BASE, "kind": "auction", "title": "Old guitar", "startPrice": "50.00",
            "minIncrement": "5.00", "endsAt": ends} | terms


def swap(**terms) -> dict:
    return {**BASE, "kind": "swap", "title": "Board games"} | terms


def free(**terms) -> dict:
    return {**BASE, "kind": "free", "title": "Moving boxes"} | terms


async def listed(seller: Member, body: dict) -> dict:
    answer = await seller.post("/listings", body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def set_column(resources: Resources, table: str, row_id: str, **values) -> None:
    """Move a timer (or any column) as time passing would, instead of sleeping."""
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    async with resources.db.begin() as session:
        await session.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"),
                              {"id": row_id, **values})
