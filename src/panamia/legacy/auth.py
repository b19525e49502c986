"""Phase 2: NextAuth's users, accounts and sessions, from MongoDB into PostgreSQL.

Four steps, in this order, each in `_id` order and one committed batch at a time:
users, accounts, sessions, verification tokens. Every document read is imported,
merged into a row that already stands for the same thing, or rejected with a reason; the
rules for each messy case are in docs/legacy-migration.md ("Phase 2").
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Invalid
from panamia.identity.dependencies import SESSION_MAX_AGE
from panamia.identity.emails import normalize_email
from panamia.identity.models import new_id
from panamia.identity.screennames import screenname_problem, screenname_skeleton
from panamia.identity.tokens import session_token_hash
from panamia.legacy import progress
from panamia.legacy.models import LegacyIdMap, LegacyReject
from panamia.legacy.progress import Checkpoint, Move
from panamia.legacy.sources import (
    ACCOUNTS, SESSIONS, USERS, VERIFICATION_TOKENS, collection, legacy_key, moment, raw_id,
    read_batch, reject_document, text,
)
from panamia.legacy.store import Known, Lookup, PgStore, Store, UserRow, Writes

USER_FIELDS = {"_id", "name", "email", "image", "emailVerified", "screenname", "role",
               "createdAt", "updatedAt"}
ACCOUNT_TOKENS = ("refresh_token", "access_token", "token_type", "scope", "id_token",
                  "session_state")
ACCOUNT_FIELDS = {"_id", "userId", "type", "provider", "providerAccountId", "expires_at",
                  "createdAt", "updatedAt", *ACCOUNT_TOKENS}
SESSION_FIELDS = {"_id", "sessionToken", "userId", "expires", "createdAt", "updatedAt"}
TOKEN_FIELDS = {"_id", "identifier", "token", "expires"}
MAX_IGNORED_NAMES = 20
MAX_ROLE_VALUES = 20
INT32_MAX = 2**31 - 1


class _Batch:
    """One batch's decisions: rows to write, and counts added to the checkpoint."""

    def __init__(self, move: Move, cp: Checkpoint, known: Known, name: str, kind: str | None):
        self.cp, self.known, self.kind = cp, known, kind
        self.keep_roles = move.keep_roles
        self.collection = f"{move.prefix}{name}"
        self.users_collection = f"{move.prefix}{USERS}"
        self.writes = Writes()

    def _map(self, key: str, new: str, outcome: str) -> None:
        self.writes.mapped.append(
            {"kind": self.kind, "legacy_id": key, "new_id": new, "outcome": outcome})
        self.known.mapped[(self.kind, key)] = new
        self.cp.count(outcome)

    def imported(self, key: str, new: str) -> None:
        self._map(key, new, "imported")

    def merged(self, key: str, into: str) -> None:
        self._map(key, into, "merged")

    def reject(self, doc: dict, legacy_id: str, code: str, detail: str) -> None:
        reason = f"{code}: {detail}".replace("\x00", "\ufffd")  # details may quote the input
        self.writes.rejects.append({
            "id": new_id(), "collection": self.collection, "legacy_id": legacy_id,
            "reason": reason, "document": reject_document(doc)})
        self.known.rejected[(self.collection, legacy_id)] = reason
        self.cp.count("rejected")
        self.cp.count_in("reasons", code)

    def note(self, what: str) -> None:
        self.cp.count_in("notes", what)

    def role_seen(self, doc: dict, became: str) -> None:
        """Every raw role value read, how many users had it and what it became."""
        seen = json.dumps(doc["role"], default=str)[:40] if "role" in doc else "(none)"
        roles = self.cp.counts.get("roles", {})
        if not any(k.startswith(f"{seen} -> ") for k in roles) \
                and len({k.rsplit(" -> ", 1)[0] for k in roles}) >= MAX_ROLE_VALUES:
            seen = "(more values)"
        self.cp.count_in("roles", f"{seen} -> {became}")

    def claim(self, doc: dict, known_fields: set[str]) -> str | None:
        """The document's legacy key, or None after rejecting it because another document
        already holds that key (`"65a1…"` beside `ObjectId("65a1…")`)."""
        ignored = self.cp.counts.get("notes", {})
        for name in sorted(doc.keys() - known_fields):
            note = f"ignored field {name}"
            if note not in ignored and sum(n.startswith("ignored field ") for n in ignored) \
                    >= MAX_IGNORED_NAMES:
                note = "ignored field (more names)"
            self.note(note)
        key = legacy_key(doc["_id"])
        if (self.kind, key) in self.known.mapped or (self.collection, key) in self.known.rejected:
            self.reject(doc, raw_id(doc["_id"]), "duplicate _id",
                        f"another document's _id is also {key}")
            return None
        return key

    def user_of(self, doc: dict, user_key: str) -> str | None:
        """The new id of the document's user, or None after rejecting the document."""
        if user_id := self.known.mapped.get(("user", user_key)):
            return user_id
        why = self.known.rejected.get((self.users_collection, user_key))
        if why:
            self.reject(doc, legacy_key(doc["_id"]), "user rejected",
                        f"user {user_key} was rejected ({why})")
        else:
            self.reject(doc, legacy_key(doc["_id"]), "user missing", f"no user {user_key}")
        return None


def _problems(doc: dict, fields: dict[str, Any]) -> tuple[str, str] | None:
    """(code, detail) naming the required fields that are absent or unusable, else None."""
    missing = [n for n in fields if doc.get(n) in (None, "")]
    malformed = [n for n, v in fields.items() if v is None and n not in missing]
    if not missing and not malformed:
        return None
    return ("missing field" if missing else "malformed field",
            ", ".join([f"{n} missing" for n in missing] + [f"{n} malformed" for n in malformed]))


def _email(doc: dict) -> tuple[str | None, tuple[str, str] | None]:
    """The address as sign-in normalizes it, or why the user cannot have it. An address
    that reaches its normal form only by Unicode folding (`ｖictim@…` for `victim@…`) is
    refused: the person would be known by an address they never used."""
    raw = doc.get("email")
    if not isinstance(raw, str) or not raw.strip():
        return None, ("no email", "email is missing, empty or not text")
    try:
        email = normalize_email(raw)
    except Invalid as exc:
        return None, ("invalid email", exc.detail)
    plain = raw.strip().lower()
    if plain != email:
        return None, ("confusable email",
                      f"{json.dumps(plain)} equals {email} only after Unicode folding; "
                      "correct the address in MongoDB if it really is that one")
    return email, None


def _optional(batch: _Batch, doc: dict, name: str, value: Any) -> Any:
    """`value` parsed from `doc[name]`; a present field that did not parse is noted."""
    if value is None and doc.get(name) not in (None, ""):
        batch.note(f"{name} malformed (left empty)")
    return value


def _screenname(batch: _Batch, doc: dict) -> str | None:
    name = text(doc.get("screenname"))
    if name is None:
        return _optional(batch, doc, "screenname", None)
    name = name.lower()
    if screenname_problem(name):
        batch.note("screenname invalid (left empty)")
        return None
    if screenname_skeleton(name) in batch.known.screennames:  # taken, or a look-alike of one
        batch.note("screenname taken (left empty)")
        return None
    return name


def _claim_screenname(batch: _Batch, name: str | None) -> dict:
    """The columns that hold `name`; the name is taken for the rest of the move."""
    skeleton = screenname_skeleton(name) if name else None
    if skeleton:
        batch.known.screennames.add(skeleton)
    return {"screenname": name, "screenname_skeleton": skeleton}


def _fill(batch: _Batch, user: UserRow, values: dict, screenname: str | None) -> None:
    """Merging fills only what the surviving user lacks; it never overwrites."""
    fills = {k: v for k, v in values.items() if v is not None and getattr(user, k) is None}
    for k, v in fills.items():
        setattr(user, k, v)
    if screenname and user.screenname is None \
            and screenname_skeleton(screenname) not in batch.known.screennames:
        user.screenname = screenname
        fills |= _claim_screenname(batch, screenname)
    if fills:
        batch.writes.user_fills.setdefault(user.id, {}).update(fills)


def _role(batch: _Batch, doc: dict) -> str:
    """`user`, unless the operator named this exact value (`--keep-role admin`): a legacy
    `" Admin "` was no admin where it came from, and must not become one here."""
    raw = doc.get("role")
    return raw if isinstance(raw, str) and raw in batch.keep_roles else "user"


def _unverified(values: dict, existing: UserRow) -> str | None:
    """Why two users with one address are not one person, or None if both verified it."""
    mine, theirs = values["email_verified"] is None, existing.email_verified is None
    if not mine and not theirs:
        return None
    who = "neither is" if mine and theirs else "this record's is not" if mine \
        else "that user's is not"
    holder = "a user who signed up on the new system" if existing.native \
        else "an earlier legacy user"
    return f"{holder} has this address; merging needs both verified, {who}"


def _user(batch: _Batch, doc: dict, key: str, email: str, now: datetime) -> str:
    """Import, merge or reject one user; what its role became (for the roles report)."""
    known = batch.known
    values = {
        "name": _optional(batch, doc, "name", text(doc.get("name"))),
        "image": _optional(batch, doc, "image", text(doc.get("image"))),
        "email_verified": _optional(batch, doc, "emailVerified",
                                    moment(doc.get("emailVerified"))),
    }
    screenname = _screenname(batch, doc)
    if existing := known.users.get(email):
        if why := _unverified(values, existing):
            batch.reject(doc, key, "unverified email in use", why)
            return "rejected"
        _fill(batch, existing, values, screenname)
        batch.note("merged into a user who signed up on the new system" if existing.native
                   else "merged into an earlier legacy user with the same email")
        batch.merged(key, existing.id)
        return "merged, not carried"
    role = _role(batch, doc)
    created = moment(doc.get("createdAt")) or (
        doc["_id"].generation_time if isinstance(doc["_id"], ObjectId) else now)
    user = UserRow(id=new_id(), screenname=screenname, native=False, **values)
    batch.writes.users.append({"id": user.id, "email": email, "role": role, "created_at": created,
                               **_claim_screenname(batch, screenname), **values})
    known.users[email] = user
    batch.imported(key, user.id)
    return role


async def _users(store: Store, batch: _Batch, docs: list[dict]) -> None:
    emails = [_email(doc) for doc in docs]
    names = {n.lower() for d in docs if (n := text(d.get("screenname")))}
    keys = [legacy_key(d["_id"]) for d in docs]
    batch.known = await store.lookup(Lookup(
        emails={e for e, _ in emails if e}, screennames=names,
        mapped={("user", k) for k in keys}, rejected={(batch.collection, k) for k in keys}))
    now = datetime.now(UTC)
    for doc, (email, problem) in zip(docs, emails, strict=True):
        key = batch.claim(doc, USER_FIELDS)
        if key is None:
            continue
        if problem:
            batch.reject(doc, key, *problem)
            became = "rejected"
        else:
            became = _user(batch, doc, key, email, now)
        batch.role_seen(doc, became)


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


async def _accounts(store: Store, batch: _Batch, docs: list[dict]) -> None:
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
        if problem := _problems(doc, fields):
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
               "expires_at": _optional(batch, doc, "expires_at",
                                       _expires_at(doc.get("expires_at")))}
        for name in ACCOUNT_TOKENS:
            value = doc.get(name)
            row[name] = value.replace("\x00", "\ufffd") if isinstance(value, str) else None
            _optional(batch, doc, name, row[name])
        batch.writes.accounts.append(row)
        known.accounts[pair] = (row["id"], user_id)
        batch.imported(key, row["id"])


def capped_expiry(expires: datetime, as_of: datetime) -> datetime:
    """A carried-over session lasts no longer than one signed in at the move would."""
    return min(expires, as_of + SESSION_MAX_AGE)


async def _sessions(store: Store, batch: _Batch, docs: list[dict], *, secret: str) -> None:
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
        if problem := _problems(doc, fields):
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


async def _verification_tokens(store: Store, batch: _Batch, docs: list[dict]) -> None:
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


@dataclass(frozen=True)
class Step:
    name: str
    collection: str
    kind: str | None
    handle: Handle


STEPS = (
    Step("auth.users", USERS, "user", _users),
    Step("auth.accounts", ACCOUNTS, "account", _accounts),
    Step("auth.sessions", SESSIONS, "session", _sessions),
    Step("auth.verification_tokens", VERIFICATION_TOKENS, None, _verification_tokens),
)
STEP_NAMES = tuple(step.name for step in STEPS)


def source(move: Move, step: Step) -> AsyncCollection:
    return collection(move.mongo, move.prefix, step.collection)


async def next_batch(store: Store, move: Move, step: Step, cp: Checkpoint) -> int:
    """Decide and write the next batch of `step` after `cp.cursor`; how many were read."""
    rows = await read_batch(source(move, step), cp.cursor, move.batch_size)
    if not rows:
        return 0
    batch = _Batch(move, cp, Known(), step.collection, step.kind)
    handle = partial(step.handle, secret=move.secret) if step.kind == "session" else step.handle
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
        done.append(await progress.run_step(
            move.db, step.name,
            lambda session, cp, step=step: next_batch(PgStore(session), move, step, cp),
            total=total, ticker=move.ticker))
    return done
