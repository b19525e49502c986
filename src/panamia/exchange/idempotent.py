"""One shape for every creating POST of the exchange (a listing, an offer, a bid, a purchase):
the kit's `Idempotency-Key` claimed first in the use case's transaction, the attempt kept with
it. A refusal for the request's content (422) raised by `make` keeps no key."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.dependencies import Principal
from panamia.resources import Resources
from panamia.sidecar import idempotency

Make = Callable[[AsyncSession, datetime], Awaitable[dict[str, Any]]]


async def create(resources: Resources, user: Principal, key: str | None, *, scope: str,
                 operation: str, body: dict[str, Any], make: Make) -> idempotency.Answer:
    """201 with what `make` returns; the same key and body again give the first answer."""
    now = datetime.now(UTC)
    claim = None if key is None else idempotency.Key(
        user.id, scope, key, idempotency.fingerprint(operation, body))
    async with resources.db.begin() as session:
        if claim and (stored := await idempotency.claim(session, claim, now)):
            return stored

        async def attempt() -> idempotency.Answer:
            return idempotency.Answer(201, await make(session, now))

        return await idempotency.kept(session, claim, attempt)
