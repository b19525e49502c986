"""Members with money, given the way an administrator gives it: a manual deposit."""

import uuid
from decimal import Decimal

from panamia.ledger.providers import manual
from panamia.resources import Resources
from tests.identity.factories import create_user


async def fund(resources: Resources, user_id: str, amount: str, currency: str = "USD") -> None:
    async with resources.db.begin() as db:
        await manual.deposit(db, user_id=user_id, amount=Decimal(amount), currency=currency,
                             reference=f"test-{uuid.uuid4().hex}", recorded_by=None)


async def member_with(resources: Resources, amount: str, currency: str = "USD") -> str:
    user_id = await create_user(resources)
    await fund(resources, user_id, amount, currency)
    return user_id
