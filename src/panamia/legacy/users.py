"""Phase 2's first step: legacy users into `users`, each imported, merged or rejected.

Two records become one user only when both addresses are verified and equal after trimming
and lower-casing; a merge hands the legacy record's sessions and accounts to the survivor,
so anything less would let whoever made the record sign in as the other person. For the
same reason an unverified record never keeps an address that another legacy record
verified, whichever comes first by `_id` (`contested_addresses`).
"""

import json
import sys
import unicodedata
from datetime import UTC, datetime
from functools import cache

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from panamia.db.postgres import new_id
from panamia.errors import Invalid
from panamia.identity.emails import normalize_email
from panamia.identity.screennames import screenname_problem, screenname_skeleton
from panamia.legacy.batch import Batch, optional
from panamia.legacy.sources import legacy_key, moment, text
from panamia.legacy.store import Lookup, Store, UserRow

USER_FIELDS = {"_id", "name", "email", "image", "emailVerified", "screenname", "role",
               "createdAt", "updatedAt"}
MAX_ROLE_VALUES = 20


def _email(doc: dict) -> tuple[str | None, tuple[str, str] | None]:
    """The address as sign-in normalizes it, or why the user cannot have it. An address
    that reaches its normal form only by Unicode folding (`ｖictim@…` for `victim@…`, or a
    Kelvin sign that lower-cases to `k`) is refused: the person would be known by an
    address they never used."""
    raw = doc.get("email")
    if not isinstance(raw, str) or not raw.strip():
        return None, ("no email", "email is missing, empty or not text")
    try:
        email = normalize_email(raw)
    except Invalid as exc:
        return None, ("invalid email", exc.detail)
    written = raw.strip()
    if written.lower() != email or not unicodedata.is_normalized("NFKC", written):
        return None, ("confusable email",
                      f"{json.dumps(written)} equals {email} only after Unicode folding; "
                      "correct the address in MongoDB if it really is that one")
    return email, None


@cache
def _whitespace() -> str:
    """What `str.strip()` removes; MongoDB's `$trim` default is another set (no U+3000)."""
    return "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


async def contested_addresses(users: AsyncCollection) -> set[str]:
    """The addresses, as `_email` gives them, that some legacy user verified and another
    did not. Read whole before the step's first batch, so `_id` order cannot decide who
    keeps an address, and a resumed run knows what an uninterrupted one knew.

    MongoDB groups the addresses and sends back only groups of two or more. Its `$toLower`
    folds ASCII only, so every address with another character lands in one group decided
    here; none of those can equal an ASCII address, because `_email` refuses those whose
    lower case would be ASCII (the Kelvin sign)."""
    trimmed = {"$trim": {"input": "$email", "chars": _whitespace()}}
    ascii_only = {"$eq": [{"$strLenBytes": trimmed}, {"$strLenCP": trimmed}]}
    pipeline = [
        {"$match": {"email": {"$type": "string"}}},
        {"$group": {"_id": {"$cond": [ascii_only, {"$toLower": trimmed}, None]},
                    "records": {"$sum": 1},
                    "users": {"$push": {"email": "$email", "emailVerified": "$emailVerified"}}}},
        {"$match": {"records": {"$gt": 1}}},
    ]
    verified: dict[str, set[bool]] = {}
    async for group in await users.aggregate(pipeline, allowDiskUse=True):
        for doc in group["users"]:
            email, problem = _email(doc)
            if not problem:
                verified.setdefault(email, set()).add(moment(doc.get("emailVerified")) is not None)
    return {email for email, seen in verified.items() if len(seen) == 2}


def _role_seen(batch: Batch, doc: dict, became: str) -> None:
    """Every raw role value read, how many users had it and what it became."""
    seen = json.dumps(doc["role"], default=str)[:40] if "role" in doc else "(none)"
    roles = batch.cp.counts.get("roles", {})
    if not any(k.startswith(f"{seen} -> ") for k in roles) \
            and len({k.rsplit(" -> ", 1)[0] for k in roles}) >= MAX_ROLE_VALUES:
        seen = "(more values)"
    batch.cp.count_in("roles", f"{seen} -> {became}")


def _screenname(batch: Batch, doc: dict) -> str | None:
    name = text(doc.get("screenname"))
    if name is None:
        return optional(batch, doc, "screenname", None)
    name = name.lower()
    if screenname_problem(name):
        batch.note("screenname invalid (left empty)")
        return None
    if screenname_skeleton(name) in batch.known.screennames:  # taken, or a look-alike of one
        batch.note("screenname taken (left empty)")
        return None
    return name


def _claim_screenname(batch: Batch, name: str | None) -> dict:
    """The columns that hold `name`; the name is taken for the rest of the move."""
    skeleton = screenname_skeleton(name) if name else None
    if skeleton:
        batch.known.screennames.add(skeleton)
    return {"screenname": name, "screenname_skeleton": skeleton}


def _fill(batch: Batch, user: UserRow, values: dict, screenname: str | None) -> None:
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


def _role(batch: Batch, doc: dict) -> str:
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


def _user(batch: Batch, doc: dict, key: str, email: str, now: datetime, contested: bool) -> str:
    """Import, merge or reject one user; what its role became (for the roles report).
    `contested`: another legacy user verified this address and one did not."""
    known = batch.known
    values = {
        "name": optional(batch, doc, "name", text(doc.get("name"))),
        "image": optional(batch, doc, "image", text(doc.get("image"))),
        "email_verified": optional(batch, doc, "emailVerified",
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
    if contested and values["email_verified"] is None:
        batch.reject(doc, key, "unverified email in use",
                     "another legacy user verified this address; this record's is not")
        return "rejected"
    role = _role(batch, doc)
    created = moment(doc.get("createdAt")) or (
        doc["_id"].generation_time if isinstance(doc["_id"], ObjectId) else now)
    user = UserRow(id=new_id(), screenname=screenname, native=False, **values)
    batch.writes.users.append({"id": user.id, "email": email, "role": role, "created_at": created,
                               **_claim_screenname(batch, screenname), **values})
    known.users[email] = user
    batch.imported(key, user.id)
    return role


async def decide(store: Store, batch: Batch, docs: list[dict], *, contested: set[str]) -> None:
    """The users step's handler for one batch of legacy users; `contested` is
    `contested_addresses` of the whole collection."""
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
            became = _user(batch, doc, key, email, now, email in contested)
        _role_seen(batch, doc, became)
