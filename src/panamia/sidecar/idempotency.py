"""`Idempotency-Key` for any POST that creates (IETF draft-ietf-httpapi-idempotency-key-header).

A route takes the header (`KeyHeader`); its service, first thing in its own transaction,
`claim`s the key, runs the attempt through `kept`, and returns the `Answer`:

* A key belongs to its user and its operation (`scope`, e.g. `pets.bookings`): two people,
  or two operations, may use the same key without meeting.
* The key is claimed in the use case's own transaction, so the key and what it created
  commit or roll back together. A request refused for its content (422) leaves no key
  behind, and fixing and resending it works.
* The answer kept is the first one that got as far as the attempt: its own (a 201), or the
  409 it raised, whose changes a savepoint rolls back while the key and its answer stay.
  The same key with the same body gets that answer again; with another body, 422; while the
  first request is still running, 409 at once.
* Keys live 24 hours; `panamia purge` deletes them (`expired`), and one found expired
  before then is taken over as new.

Detecting "still running": the first request's key row is uncommitted, and a second INSERT
of the same key would wait on it until the first commits. `pg_try_advisory_xact_lock` on the
(user, scope and key) pair answers at once instead, and the same commit or rollback that ends
the first request releases it. A short `lock_timeout` would not do: it would make the second
request wait before answering, and it would also cut short the attempt's own waits (an
INSERT waiting on an exclusion constraint must wait to learn whether its rival commits).
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, Text, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Conflict, Invalid
from panamia.sidecar.models import IdempotencyKey

KEEP_FOR = timedelta(hours=24)
HEADER = "Idempotency-Key"
KeyHeader = Annotated[str | None, Header(
    alias=HEADER, min_length=1, max_length=255,
    description="Send the same key to retry safely: the first answer (its 201 or 409) comes "
                "back, kept for 24 hours")]
keys = IdempotencyKey.__table__


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    def response(self) -> JSONResponse:
        headers = {"Idempotent-Replayed": "true"} if self.replayed else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class Key:
    """One request's key: whose, for which operation, and the fingerprint of its body."""

    user_id: str
    scope: str
    key: str
    request_hash: str


def fingerprint(operation: str, body: dict[str, Any]) -> str:
    """SHA-256 of the parsed request, so spacing and key order in the JSON do not matter."""
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_LOCK = select(func.pg_try_advisory_xact_lock(
    func.hashtext(bindparam("user_id")),
    func.hashtext(bindparam("scope", type_=Text) + " " + bindparam("key", type_=Text)),
))
_CLAIM = (
    insert(keys)
    .values(user_id=bindparam("user_id"), scope=bindparam("scope"), key=bindparam("key"),
            request_hash=bindparam("request_hash"), created_at=bindparam("now"),
            expires_at=bindparam("expires_at"))
    .on_conflict_do_update(
        index_elements=[keys.c.user_id, keys.c.scope, keys.c.key],
        set_={"request_hash": bindparam("request_hash"), "response_status": None,
              "response_body": None, "created_at": bindparam("now"),
              "expires_at": bindparam("expires_at")},
        where=keys.c.expires_at <= bindparam("now"),
    )
    .returning(keys.c.key)
)
_STORED = select(keys.c.request_hash, keys.c.response_status, keys.c.response_body).where(
    keys.c.user_id == bindparam("user_id"), keys.c.scope == bindparam("scope"),
    keys.c.key == bindparam("key"),
)


async def claim(session: AsyncSession, key: Key, now: datetime) -> Answer | None:
    """Take `key` for this transaction: None if it is new, else the answer it already has."""
    ids = {"user_id": key.user_id, "scope": key.scope, "key": key.key}
    if not (await session.execute(_LOCK, ids)).scalar_one():
        raise Conflict(f"A request with this {HEADER} is still being processed; retry once it "
                       "has finished to get its answer.")
    claimed = await session.execute(
        _CLAIM, {**ids, "request_hash": key.request_hash, "now": now,
                 "expires_at": now + KEEP_FOR}
    )
    if claimed.first() is not None:
        return None
    stored = (await session.execute(_STORED, ids)).one()
    if stored.request_hash != key.request_hash:
        raise Invalid(f"This {HEADER} was already used with a different request; use a new "
                      "key for a new request.", fields=[HEADER])
    if stored.response_status is None:  # every claim records its answer before committing
        raise Conflict(f"The request with this {HEADER} left no answer; use a new key.")
    return Answer(stored.response_status, stored.response_body, replayed=True)


async def remember(session: AsyncSession, key: Key, answer: Answer) -> None:
    await session.execute(
        update(keys)
        .where(keys.c.user_id == key.user_id, keys.c.scope == key.scope, keys.c.key == key.key)
        .values(response_status=answer.status, response_body=answer.body)
    )


async def kept(
    session: AsyncSession, key: Key | None, attempt: Callable[[], Awaitable[Answer]]
) -> Answer:
    """Run `attempt` and keep its answer with `key`. With a key, it runs in a savepoint, so
    that a `Conflict` it raises rolls back what it did but keeps the key and the 409."""
    if key is None:
        return await attempt()
    try:
        async with session.begin_nested():
            answer = await attempt()
    except Conflict as exc:
        answer = Answer(exc.status, exc.body())
    await remember(session, key, answer)
    return answer


def expired(now: datetime) -> ColumnElement[bool]:
    """The keys past their 24 hours, which `panamia purge` deletes in batches."""
    return keys.c.expires_at <= now
