"""Phase 3: MongoDB references to legacy user ids rewritten to the PostgreSQL ids.

    await run_refs(mongo, db, *, refs=("articles.coAuthors.userId",), aliases=("users:email",),
                   batch_size=500, fresh=False, ticker=None) -> list[StepResult]

`mongo` holds the content and legacy collections; `db` is a sessionmaker on the database
phase 2 filled. Paths: the registry's (panamia.references) plus `refs`, in dot notation
through arrays of subdocuments. A value already a `users.id` is left alone; any other
becomes the user legacy_id_map gives its `legacy_key` (ObjectId or its 24-hex string), else
the user with the normalized email (or screenname) of the document with that `_id` in an
alias collection (`users:email`: the app's own users, not nextauth_users). The old value
is kept in the document under `_legacyRefs.<path>`: the value itself for a path without
arrays, else the list of every value at the path in document order; written once, in the
same update as the new values, for `rollback_refs`.

Each (collection, path) is a step in legacy_progress (`refs:<collection>.<path>`), read in
`_id` order by one streaming cursor (SecantusDB scans the whole collection for every new
query). Per batch: an unordered bulk_write of `$set` by `_id` computed from the documents
as read, then one PostgreSQL transaction with the batch's rejects and checkpoint; a crash
between the two replays the batch, which finds its values migrated and writes nothing.
A value that resolves to no user, or a new id a unique index refuses (two legacy users
merged, each with a profile), stays as it was and is reported in legacy_rejects (collection
`refs:<collection>.<path>`, a row per document), cleared by a later run that resolves it.
Run it with nothing else writing those collections (old app stopped, new one not yet on).
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId, Regex, Timestamp, json_util
from bson.binary import Binary
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError
from sqlalchemy import Text, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert

from panamia.db.mongo import MongoDatabase
from panamia.db.postgres import Sessionmaker
from panamia.errors import Invalid
from panamia.identity.emails import normalize_email
from panamia.identity.models import User
from panamia.legacy import progress
from panamia.legacy.models import LegacyIdMap, LegacyProgress, LegacyReject
from panamia.legacy.sources import HEX24, legacy_key
from panamia.references import REFERENCES

BATCH_SIZE = progress.DEFAULT_BATCH_SIZE
KEPT = "_legacyRefs"
STEP_PREFIX = "refs:"
DUPLICATE_KEY = 11000
COUNTERS = ("read", "updated", "rewritten", "alreadyNew", "unresolved", "conflicts")


@dataclass(frozen=True)
class RefPath:
    collection: str
    path: str

    @classmethod
    def parse(cls, text: str) -> "RefPath":
        collection, _, path = text.strip().partition(".")
        if not collection or any(not p or p.isdigit() for p in path.split(".")) \
                or "$" in text or path.startswith(KEPT):
            raise ValueError(f"--ref {text!r}: give collection.path (no positions), "
                             "e.g. articles.coAuthors.userId")
        return cls(collection, path)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def step(self) -> str:
        return f"{STEP_PREFIX}{self.collection}.{self.path}"


@dataclass(frozen=True)
class Alias:
    collection: str
    field: str

    @classmethod
    def parse(cls, text: str) -> "Alias":
        collection, _, name = text.strip().partition(":")
        if not collection or name.rsplit(".", 1)[-1].lower() not in ("email", "screenname"):
            raise ValueError(f"--alias {text!r}: give COLLECTION:FIELD, FIELD an email or a "
                             "screenname, e.g. users:email")
        return cls(collection, name)

    @property
    def by_email(self) -> bool:
        return self.field.rsplit(".", 1)[-1].lower() == "email"


@dataclass
class StepResult:
    step: str
    counts: dict[str, int]
    resumed: bool = False  # after a checkpoint: an interrupted run, or a finished step's tail


def registry_paths() -> list[RefPath]:
    return [RefPath(r.collection, r.field) for r in REFERENCES if r.table == "users"]


def paths_for(refs: Iterable[str | RefPath] = ()) -> list[RefPath]:
    paths = registry_paths()
    for ref in refs:
        ref = ref if isinstance(ref, RefPath) else RefPath.parse(ref)
        if ref not in paths:
            paths.append(ref)
    return paths


# --- values at a dot path, read and replaced as MongoDB's dot notation reaches them ---

def leaves(node: Any, parts: tuple[str, ...]) -> list[Any]:
    if not parts:
        return list(node) if isinstance(node, list) else [node]
    if isinstance(node, list):
        return [v for item in node for v in leaves(item, parts)]
    if isinstance(node, dict) and parts[0] in node:
        return leaves(node[parts[0]], parts[1:])
    return []


def replace(node: Any, parts: tuple[str, ...], values: Iterator[Any]) -> Any:
    """A copy of `node` with each value `leaves` finds replaced by the next of `values`."""
    if not parts:
        return [next(values) for _ in node] if isinstance(node, list) else next(values)
    if isinstance(node, list):
        return [replace(item, parts, values) for item in node]
    if isinstance(node, dict) and parts[0] in node:
        return {**node, parts[0]: replace(node[parts[0]], parts[1:], values)}
    return node


def has_array(node: Any, parts: tuple[str, ...]) -> bool:
    for part in parts:
        if isinstance(node, list):
            return True
        node = node.get(part) if isinstance(node, dict) else None
    return isinstance(node, list)


def kept_paths(kept: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(kept, dict):
        for key, value in kept.items():
            yield from kept_paths(value, prefix + (key,))
    elif prefix:
        yield prefix, kept


def is_legacy_looking(value: Any) -> bool:
    return isinstance(value, ObjectId) or bool(isinstance(value, str) and HEX24.fullmatch(value))


def is_new(value: Any, existing: set[str]) -> bool:
    return isinstance(value, str) and value in existing


def id_text(value: Any) -> str:
    return str(value) if isinstance(value, ObjectId | str) else json_util.dumps(value)


def as_json(value: Any) -> Any:
    """A JSONB-safe rendering (relaxed extended JSON) of a BSON value."""
    return json.loads(json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS))


# --- resolving legacy ids ---

def text_array(name: str, values: Iterable[str]):
    return any_(bindparam(name, sorted(values), type_=ARRAY(Text)))


async def existing_users(db: Sessionmaker, ids: Iterable[str]) -> set[str]:
    if not (ids := set(ids)):
        return set()
    async with db() as session:
        return set((await session.execute(
            select(User.id).where(User.id == text_array("ids", ids)))).scalars())


async def _through_alias(mongo: MongoDatabase, db: Sessionmaker, alias: Alias,
                         raw: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(legacy key -> user id, legacy key -> why not) for the documents of an alias collection."""
    wanted = [v for v in raw.values() if isinstance(v, ObjectId | str)] + list(raw)
    wanted += [ObjectId(k) for k in raw if HEX24.fullmatch(k)]
    by_key: dict[str, str] = {}
    reasons: dict[str, str] = {}
    source = f"{alias.collection}.{alias.field}"
    async for doc in mongo[alias.collection].find({"_id": {"$in": wanted}},
                                                  {alias.field: 1}):
        key = legacy_key(doc["_id"])
        value = next(iter(leaves(doc, tuple(alias.field.split(".")))), None)
        try:
            if not isinstance(value, str) or not value.strip():
                raise Invalid("empty")
            by_key[key] = normalize_email(value) if alias.by_email else value.strip().lower()
        except Invalid:
            reasons[key] = f"{source} of {id_text(doc['_id'])} is not a usable {alias.field}"
    column = func.lower(User.email if alias.by_email else User.screenname)
    async with db() as session:
        users = dict((await session.execute(select(column, User.id).where(
            column == text_array("k", set(by_key.values()))))).all()) if by_key else {}
    found = {k: users[v] for k, v in by_key.items() if v in users}
    reasons |= {k: f"no PostgreSQL user has the {alias.field} of {alias.collection} "
                   f"{id_text(raw.get(k, k))}" for k in by_key.keys() - found.keys()}
    return found, reasons


async def resolve(mongo: MongoDatabase, db: Sessionmaker, aliases: list[Alias],
                  values: Iterable[Any]) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """(values already a user's id, legacy key -> user id, legacy key -> why unresolved)."""
    values = [v for v in values if v is not None]
    existing = await existing_users(db, (v for v in values if isinstance(v, str)))
    raw = {legacy_key(v): v for v in values if not is_new(v, existing)}
    mapping: dict[str, str] = {}
    if raw:
        async with db() as session:
            mapping = dict((await session.execute(
                select(LegacyIdMap.legacy_id, LegacyIdMap.new_id).where(
                    LegacyIdMap.kind == "user", LegacyIdMap.legacy_id == text_array("k", raw)))
            ).all())
    reasons: dict[str, str] = {}
    for alias in aliases:
        if missing := {k: v for k, v in raw.items() if k not in mapping}:
            found, why = await _through_alias(mongo, db, alias, missing)
            mapping |= found
            reasons |= why
    for key, value in raw.items():
        if key not in mapping and key not in reasons:
            reasons[key] = ("legacy id of no imported user" if is_legacy_looking(value)
                            else "not a legacy id and not the id of any user")
    return existing, mapping, reasons


# --- the steps ---

_ID_TYPE_ORDER = (("minKey",), ("null",), ("int", "long", "double", "decimal"),
                  ("string", "symbol"), ("object",), ("binData",), ("objectId",), ("bool",),
                  ("date",), ("timestamp",), ("regex",), ("maxKey",))


def after(last: Any) -> dict:
    """Documents sorted after `last`: `$gt` compares within one BSON type only, so the
    `_id`s of the types sorting later are asked for too."""
    bracket = next((i for kind, i in (
        (bool, 7), (int | float, 2), (str, 3), (dict, 4), (bytes | Binary, 5), (ObjectId, 6),
        (datetime, 8), (Timestamp, 9), (Regex, 10)) if isinstance(last, kind)), None)
    later = [t for group in _ID_TYPE_ORDER[bracket + 1:] for t in group] \
        if bracket is not None else []
    if not later:
        return {"_id": {"$gt": last}}
    return {"$or": [{"_id": {"$gt": last}}, {"_id": {"$type": later}}]}


def _reject(ref: RefPath, doc: dict, reason: str, unresolved: list[dict]) -> dict:
    document = {"_id": as_json(doc["_id"]), "path": ref.path, "unresolved": unresolved}
    return {"collection": ref.step, "legacy_id": id_text(doc["_id"]), "reason": reason,
            "document": document}


def _plan(ref: RefPath, doc: dict, values: list[Any], existing: set[str],
          mapping: dict[str, str], reasons: dict[str, str], counts: dict[str, int]
          ) -> tuple[UpdateOne | None, dict | None]:
    new_values, unresolved = [], []
    for value in values:
        key = None if value is None or is_new(value, existing) else legacy_key(value)
        if key is None:
            counts["alreadyNew"] += value is not None
            new_values.append(value)
        elif key in mapping:
            counts["rewritten"] += 1
            new_values.append(mapping[key])
        else:
            counts["unresolved"] += 1
            unresolved.append({"value": as_json(value), "reason": reasons[key]})
            new_values.append(value)
    reject = _reject(ref, doc, unresolved[0]["reason"], unresolved) if unresolved else None
    if new_values == values:
        return None, reject
    parts = ref.parts
    changes = {parts[0]: replace(doc, parts, iter(new_values))[parts[0]]}
    if not [p for p, _ in kept_paths(doc.get(KEPT)) if p == parts]:
        changes[f"{KEPT}.{ref.path}"] = values if has_array(doc, parts) else values[0]
    return UpdateOne({"_id": doc["_id"]}, {"$set": changes}), reject


async def _batch(mongo: MongoDatabase, db: Sessionmaker, ref: RefPath, aliases: list[Alias],
                 docs: list[dict], checkpoint: progress.Checkpoint,
                 ticker: progress.Ticker) -> None:
    counts = checkpoint.counts
    found = [leaves(doc, ref.parts) for doc in docs]
    existing, mapping, reasons = await resolve(mongo, db, aliases,
                                               (v for values in found for v in values))
    updates: list[tuple[dict, UpdateOne]] = []
    rejects: dict[Any, dict] = {}
    for doc, values in zip(docs, found):
        update, reject = _plan(ref, doc, values, existing, mapping, reasons, counts)
        if update:
            updates.append((doc, update))
        if reject:
            rejects[doc["_id"]] = reject
    if updates:
        try:
            result = await mongo[ref.collection].bulk_write([u for _, u in updates], ordered=False)
            counts["updated"] += result.modified_count
        except BulkWriteError as exc:
            if any(e["code"] != DUPLICATE_KEY for e in exc.details["writeErrors"]):
                raise
            counts["updated"] += exc.details["nModified"]
            for error in exc.details["writeErrors"]:
                doc = updates[error["index"]][0]
                counts["conflicts"] += 1
                reason = f"the new id would duplicate a unique key: {error['errmsg'][:300]}"
                rejects.setdefault(doc["_id"], _reject(ref, doc, reason, []))["reason"] = reason
    counts["read"] += len(docs)
    checkpoint.cursor = json_util.dumps(docs[-1]["_id"],
                                        json_options=json_util.CANONICAL_JSON_OPTIONS)
    async with db.begin() as session:
        await progress.load(session, ref.step, lock=True)
        await session.execute(delete(LegacyReject).where(
            LegacyReject.collection == ref.step,
            LegacyReject.legacy_id == text_array("ids", {id_text(d["_id"]) for d in docs})))
        if rejects:
            await session.execute(insert(LegacyReject), list(rejects.values()))
        await progress.save(session, checkpoint)
    ticker.advance(ref.step, len(docs))


async def run_step(mongo: MongoDatabase, db: Sessionmaker, ref: RefPath, aliases: list[Alias],
                   batch_size: int = BATCH_SIZE, fresh: bool = False,
                   ticker: progress.Ticker | None = None) -> StepResult:
    ticker = ticker or progress.NullTicker()
    async with db() as session:
        checkpoint = await progress.load(session, ref.step)
    left = checkpoint.finished_at and (checkpoint.counts.get("unresolved")
                                       or checkpoint.counts.get("conflicts"))
    resume = bool(checkpoint.cursor and not fresh and not left)
    if not resume:
        checkpoint = progress.Checkpoint(ref.step)
    checkpoint.finished_at = None
    checkpoint.counts = {**dict.fromkeys(COUNTERS, 0), **checkpoint.counts}
    query = after(json_util.loads(checkpoint.cursor)) if resume else {}
    ticker.start(ref.step, await mongo[ref.collection].estimated_document_count(),
                 checkpoint.read)
    docs: list[dict] = []
    cursor = mongo[ref.collection].find(query, {ref.parts[0]: 1, f"{KEPT}.{ref.path}": 1})
    async for doc in cursor.sort("_id", 1).batch_size(batch_size):
        docs.append(doc)
        if len(docs) >= batch_size:
            await _batch(mongo, db, ref, aliases, docs, checkpoint, ticker)
            docs = []
    if docs:
        await _batch(mongo, db, ref, aliases, docs, checkpoint, ticker)
    checkpoint.finished_at = datetime.now(UTC)
    async with db.begin() as session:
        await progress.load(session, ref.step, lock=True)
        await progress.save(session, checkpoint)
    return StepResult(ref.step, dict(checkpoint.counts), resumed=resume)


async def run_refs(mongo: MongoDatabase, db: Sessionmaker, *,
                   refs: Iterable[str | RefPath] = (), aliases: Iterable[str | Alias] = (),
                   batch_size: int = BATCH_SIZE, fresh: bool = False,
                   ticker: progress.Ticker | None = None) -> list[StepResult]:
    """Every registry path and every `refs` path, one step each (see the module docstring).

    A step resumes after its checkpoint: an interrupted one where it stopped, a finished
    one to read what was added since. It reads its collection again from the start when it
    left references unresolved or refused (another alias, or users imported since, may
    resolve them), or with `fresh`. Raises ValueError for a malformed ref or alias."""
    alias_list = [a if isinstance(a, Alias) else Alias.parse(a) for a in aliases]
    return [await run_step(mongo, db, ref, alias_list, batch_size, fresh, ticker)
            for ref in paths_for(refs)]


# --- rollback ---

async def rollback_refs(mongo: MongoDatabase, db: Sessionmaker, *,
                        refs: Iterable[str | RefPath] = (),
                        batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Put every kept old value back and remove `_legacyRefs`, in each collection of the
    registry, of `refs` and of any refs step on record; then forget the refs steps and their
    rejects. A path whose number of values changed since is left as it is and counted."""
    async with db() as session:
        steps = [c.step for c in await progress.load_all(session, STEP_PREFIX)]
    collections = {p.collection for p in paths_for(refs)}
    collections |= {s.removeprefix(STEP_PREFIX).split(".", 1)[0] for s in steps}
    counts = {"documents": 0, "restored": 0, "changedSince": 0}
    for name in sorted(collections):
        ops: list[UpdateOne] = []
        async for doc in mongo[name].find({KEPT: {"$exists": True}}).sort("_id", 1) \
                .batch_size(batch_size):
            if op := _restore(doc, counts):
                ops.append(op)
            if len(ops) >= batch_size:
                await mongo[name].bulk_write(ops, ordered=False)
                ops = []
        if ops:
            await mongo[name].bulk_write(ops, ordered=False)
    async with db.begin() as session:
        await session.execute(delete(LegacyProgress).where(
            LegacyProgress.step.startswith(STEP_PREFIX)))
        await session.execute(delete(LegacyReject).where(
            LegacyReject.collection.startswith(STEP_PREFIX)))
    return counts


def _restore(doc: dict, counts: dict[str, int]) -> UpdateOne | None:
    counts["documents"] += 1
    restored, done, left = doc, [], 0
    for parts, old in kept_paths(doc[KEPT]):
        olds = old if isinstance(old, list) else [old]
        if len(leaves(restored, parts)) != len(olds) \
                or has_array(doc, parts) != isinstance(old, list):
            counts["changedSince"] += 1
            left += 1
            continue
        restored = replace(restored, parts, iter(olds))
        done.append(".".join(parts))
        counts["restored"] += 1
    update: dict[str, Any] = {}
    if changes := {k: v for k, v in restored.items() if k != KEPT and v is not doc.get(k)}:
        update["$set"] = changes
    if unset := {f"{KEPT}.{path}": "" for path in done} if left else {KEPT: ""}:
        update["$unset"] = unset
    return UpdateOne({"_id": doc["_id"]}, update) if update else None
