"""Phase 2: NextAuth's users, accounts and sessions, from MongoDB into PostgreSQL.

Four steps, in this order, each in `_id` order and one committed batch at a time:
users, accounts, sessions, verification tokens. Every document read is imported,
merged into a row that already stands for the same thing, or rejected with a reason; the
rules for each messy case are in docs/legacy-migration.md ("Phase 2"). The users step is
`legacy.users`; a batch's bookkeeping is `legacy.batch.Batch`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id
from panamia.identity.dependencies import SESSION_MAX_AGE
from panamia.identity.tokens import session_token_hash
from panamia.legacy import progress, users
from panamia.legacy.batch import Batch, optional, problems
from panamia.legacy.models import LegacyIdMap, LegacyReject
from panamia.legacy.progress import Checkpoint, Move
from panamia.legacy.sources import (
    ACCOUNTS, SESSIONS, USERS, VERIFICATION_TOKENS, Stream, collection, legacy_key, moment,
    text,
)
from panamia.legacy.store import Known, Lookup, PgStore, Store

ACCOUNT_TOKENS = ("refresh_token", "access_token", "token_type", "scope", "id_token",
                  "session_state")
ACCOUNT_FIELDS = {"_id", "userId", "type", "provider", "providerAccountId", "expires_at",
                  "createdAt", "updatedAt", *ACCOUNT_TOKENS}
SESSION_FIELDS = {"_id", "sessionToken", "userId", "expires", "createdAt", "updatedAt"}
TOKEN_FIELDS = {"_id", "identifier", "token", "expires"}
INT32_MAX = 2**31 - 1


def _account_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric provider ids (GitHub's) written as numbers
    return text(value)


def _expires_at(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= INT32_MAX:
        return int(value)
    return None


async def _accounts(store: Store, batch: Batch, docs: list[dict]) -> None:
    parsed = []
    for doc in docs:
        fields = {"userId": legacy_key(doc["userId"]) if doc.get("userId") else None,
                  "type": text(doc.get("type")), "provider": text(doc.get("provider")),
                  "providerAccountId": _account_id(doc.get("providerAccountId"))}
        parsed.append(fields)
    keys = [legacy_key(d["_id"]) for d in docs]
    user_keys = {p["userId"] for p in parsed if p["userId"]}
    known = await store.lookup(Lookup(
        mapped={("account", k) for k in keys} | {("user", k) for k in user_keys},
        rejected={(batch.collection, k) for k in keys}
        | {(batch.users_collection, k) for k in user_keys},
        accounts={(p["provider"], p["providerAccountId"]) for p in parsed
                  if p["provider"] and p["providerAccountId"]}))
    batch.known = known
    for doc, fields in zip(docs, parsed, strict=True):
        key = batch.claim(doc, ACCOUNT_FIELDS)
        if key is None:
            continue
        if problem := problems(doc, fields):
            batch.reject(doc, key, *problem)
            continue
        user_id = batch.user_of(doc, fields["userId"])
        if user_id is None:
            continue
        pair = (fields["provider"], fields["providerAccountId"])
        if existing := known.accounts.get(pair):
            if existing[1] == user_id:
                batch.merged(key, existing[0])
            else:
                batch.reject(doc, key, "provider account taken",
                             f"{pair[0]} account {pair[1]} is linked to another user")
            continue
        row = {"id": new_id(), "user_id": user_id, "type": fields["type"],
               "provider": pair[0], "provider_account_id": pair[1],
               "expires_at": optional(batch, doc, "expires_at",
                                      _expires_at(doc.get("expires_at")))}
        for name in ACCOUNT_TOKENS:
            value = doc.get(name)
            row[name] = value.replace("\x00", "\ufffd") if isinstance(value, str) else None
            optional(batch, doc, name, row[name])
        batch.writes.accounts.append(row)
        known.accounts[pair] = (row["id"], user_id)
        batch.imported(key, row["id"])


def capped_expiry(expires: datetime, as_of: datetime) -> datetime:
    """A carried-over session lasts no longer than one signed in at the move would."""
    return min(expires, as_of + SESSION_MAX_AGE)


async def _sessions(store: Store, batch: Batch, docs: list[dict], *, secret: str) -> None:
    # Fixed at the step's first batch, so a resumed run decides expiry as the first one did.
    as_of = datetime.fromisoformat(
        batch.cp.counts.setdefault("asOf", datetime.now(UTC).isoformat()))
    parsed = []
    for doc in docs:
        token = doc.get("sessionToken")
        token = token if isinstance(token, str) and token.strip() else None
        parsed.append({"sessionToken": token,
                       "userId": legacy_key(doc["userId"]) if doc.get("userId") else None,
                       "expires": moment(doc.get("expires"))})
    hashes = [session_token_hash(p["sessionToken"], secret) if p["sessionToken"] else None
              for p in parsed]
    keys = [legacy_key(d["_id"]) for d in docs]
    user_keys = {p["userId"] for p in parsed if p["userId"]}
    known = await store.lookup(Lookup(
        mapped={("session", k) for k in keys} | {("user", k) for k in user_keys},
        rejected={(batch.collection, k) for k in keys}
        | {(batch.users_collection, k) for k in user_keys},
        sessions={h for h in hashes if h}))
    batch.known = known
    for doc, fields, token_hash in zip(docs, parsed, hashes, strict=True):
        key = batch.claim(doc, SESSION_FIELDS)
        if key is None:
            continue
        if problem := problems(doc, fields):
            batch.reject(doc, key, *problem)
            continue
        if fields["expires"] <= as_of:
            batch.reject(doc, key, "expired", f"expired {fields['expires'].isoformat()}")
            continue
        user_id = batch.user_of(doc, fields["userId"])
        if user_id is None:
            continue
        if existing := known.sessions.get(token_hash):
            if existing[1] == user_id:
                batch.merged(key, existing[0])
            else:
                batch.reject(doc, key, "token taken",
                             "another user's session has the same sessionToken")
            continue
        expires = capped_expiry(fields["expires"], as_of)
        if expires < fields["expires"]:
            batch.note(f"expiry capped at {SESSION_MAX_AGE.days} days from the move")
        row = {"id": new_id(), "session_token": token_hash, "user_id": user_id,
               "expires": expires}
        batch.writes.sessions.append(row)
        known.sessions[token_hash] = (row["id"], user_id)
        batch.imported(key, row["id"])


async def _verification_tokens(store: Store, batch: Batch, docs: list[dict]) -> None:
    keys = [legacy_key(d["_id"]) for d in docs]
    batch.known = await store.lookup(Lookup(rejected={(batch.collection, k) for k in keys}))
    for doc in docs:
        key = batch.claim(doc, TOKEN_FIELDS)
        if key is None:
            continue
        expires = moment(doc.get("expires"))
        when = f"expires {expires.isoformat()}" if expires else "no valid expires"
        batch.reject(doc, key, "not carried over",
                     f"sign-in links live 24 hours and work once ({when}); "
                     "the person asks for a new one")


Handle = Callable[..., Awaitable[None]]
Fixed = Callable[[Move, AsyncCollection], Awaitable[dict[str, Any]]]


async def _nothing_fixed(move: Move, source: AsyncCollection) -> dict[str, Any]:
    return {}


async def _secret(move: Move, source: AsyncCollection) -> dict[str, Any]:
    return {"secret": move.secret}


async def _contested(move: Move, source: AsyncCollection) -> dict[str, Any]:
    return {"contested": await users.contested_addresses(source)}


@dataclass(frozen=True)
class Step:
    name: str
    collection: str
    kind: str | None
    handle: Handle
    fixed: Fixed = _nothing_fixed  # the handler's keyword arguments for the whole run


STEPS = (
    Step("auth.users", USERS, "user", users.decide, _contested),
    Step("auth.accounts", ACCOUNTS, "account", _accounts),
    Step("auth.sessions", SESSIONS, "session", _sessions, _secret),
    Step("auth.verification_tokens", VERIFICATION_TOKENS, None, _verification_tokens),
)
STEP_NAMES = tuple(step.name for step in STEPS)


def source(move: Move, step: Step) -> AsyncCollection:
    return collection(move.mongo, move.prefix, step.collection)


async def handler(move: Move, step: Step) -> Handle:
    """`step.handle` with what it fixes for the whole run, read before the step's first
    batch (of this run: a resumed run reads it again, from the same source)."""
    return partial(step.handle, **await step.fixed(move, source(move, step)))


def documents(move: Move, step: Step) -> Stream:
    """The step's documents, one streaming read for all its batches."""
    return Stream(source(move, step), move.batch_size)


async def next_batch(
    store: Store, move: Move, step: Step, cp: Checkpoint, handle: Handle, stream: Stream
) -> int:
    """Decide and write the next batch of `step` after `cp.cursor`; how many were read."""
    rows = await stream.batch(cp.cursor, move.batch_size)
    if not rows:
        return 0
    batch = Batch(move, cp, Known(), step.collection, step.kind)
    await handle(store, batch, [doc for doc, _ in rows])
    await store.write(batch.writes, batch.known)
    cp.cursor = rows[-1][1]
    return len(rows)


class CheckpointsLost(RuntimeError):
    pass


async def check_checkpoints(session: AsyncSession, move: Move) -> None:
    """Refuse to start a step over again while its output is still there: every record
    would then look like a second document with a taken id."""
    for step in STEPS:
        if (await progress.load(session, step.name)).cursor is not None:
            continue
        output = [exists().where(LegacyReject.collection == f"{move.prefix}{step.collection}")]
        if step.kind:
            output.append(exists().where(LegacyIdMap.kind == step.kind))
        if await session.scalar(select(or_(*output))):
            raise CheckpointsLost(
                f"{step.name} has no checkpoint in legacy_progress, but legacy_id_map or "
                "legacy_rejects hold records it wrote: restore legacy_progress, or move into "
                "an empty database")


async def run_auth(move: Move) -> list[Checkpoint]:
    """Phase 2, resumable: each batch commits with its checkpoint (see progress.run_step)."""
    async with move.db() as session:
        await check_checkpoints(session, move)
    done = []
    for step in STEPS:
        total = await source(move, step).estimated_document_count()
        handle = await handler(move, step)
        async with documents(move, step) as stream:
            done.append(await progress.run_step(
                move.db, step.name,
                lambda session, cp, step=step, handle=handle, stream=stream: next_batch(
                    PgStore(session), move, step, cp, handle, stream),
                total=total, ticker=move.ticker))
    return done
