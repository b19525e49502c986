"""`panamia legacy verify`: is the move complete and faithful? Exit 1 on any mismatch.

    await verify(mongo, db, *, prefix="nextauth_", secret=None, sample=50, refs=()) -> Report

Checks, each a `Check` with figures and up to `MAX_EXAMPLES` example problems:

* steps: every phase 2 step and every registry refs step ran to the end.
* counts, per phase 2 step: read = imported + merged + rejected (its checkpoint), read = the
  documents in its collection now, and the outcomes = the rows legacy_id_map and
  legacy_rejects hold for it.
* users: every legacy user's `legacy_key` maps to a row of `users`, or was rejected with a
  reason (a rejected user is a decision on record, in legacy_rejects and the archive).
* references, per registry path, refs step on record and `refs`: every value is the id of
  a row of `users` (a legacy id left, or an id of no user, is a mismatch).
* sample of users, accounts and sessions: a random sample of legacy documents compared field
  by field with their PostgreSQL rows through legacy_id_map (session tokens as their HMAC,
  when `secret` is given).
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from panamia.db.mongo import MongoDatabase
from panamia.db.postgres import Sessionmaker
from panamia.errors import Invalid
from panamia.identity.emails import normalize_email
from panamia.identity.models import Account, Session, User
from panamia.identity.tokens import session_token_hash
from panamia.legacy import auth, progress
from panamia.legacy import refs as phase3
from panamia.legacy.models import LegacyIdMap, LegacyReject
from panamia.legacy.sources import (
    ACCOUNTS, SESSIONS, USERS, collection, legacy_key, moment, raw_id, text,
)

MAX_EXAMPLES = 10
CHUNK = 1000
INT32_MAX = 2**31 - 1


@dataclass
class Check:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, text_: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_EXAMPLES:
            self.problems.append(text_)


@dataclass
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict:
        return {"ok": self.ok, "checks": [{**asdict(c), "ok": c.ok} for c in self.checks]}


async def _steps_and_counts(mongo: MongoDatabase, db: Sessionmaker, prefix: str,
                            ref_steps: list[str]) -> list[Check]:
    async with db() as session:
        done = {cp.step: cp for cp in await progress.load_all(session)}
        mapped = {(k, o): n for k, o, n in (await session.execute(
            select(LegacyIdMap.kind, LegacyIdMap.outcome, func.count())
            .group_by(LegacyIdMap.kind, LegacyIdMap.outcome))).all()}
        rejected = dict((await session.execute(
            select(LegacyReject.collection, func.count()).group_by(LegacyReject.collection)
        )).all())
    steps = Check("steps finished")
    for name in [*auth.STEP_NAMES, *ref_steps]:
        cp = done.get(name)
        if cp is None or cp.finished_at is None:
            steps.problem(f"{name} {'never ran' if cp is None else 'did not finish'}")
    steps.figures = {"steps": len(auth.STEP_NAMES) + len(ref_steps)}
    checks = [steps]
    for step in auth.STEPS:
        cp = done.get(step.name) or progress.Checkpoint(step.name)
        name = f"{prefix}{step.collection}"
        check = Check(f"counts {name}")
        got = {o: cp.counts.get(o, 0) for o in ("imported", "merged", "rejected")}
        check.figures = {"documents": await mongo[name].count_documents({}), "read": cp.read,
                         **got}
        if cp.read != sum(got.values()):
            check.problem(f"read {cp.read} != imported + merged + rejected {sum(got.values())}")
        if cp.read != check.figures["documents"]:
            check.problem(f"read {cp.read}, but {name} holds {check.figures['documents']}")
        tables = {"imported": mapped.get((step.kind, "imported"), 0),
                  "merged": mapped.get((step.kind, "merged"), 0),
                  "rejected": rejected.get(name, 0)}
        for outcome, rows in tables.items():
            if rows != got[outcome]:
                check.problem(f"{outcome} {got[outcome]}, but the tables hold {rows}")
        checks.append(check)
    return checks


async def _users_mapped(mongo: MongoDatabase, db: Sessionmaker, prefix: str) -> Check:
    check = Check("legacy users mapped", {"users": 0, "mapped": 0, "rejected": 0})
    name = f"{prefix}{USERS}"
    chunk: list[Any] = []

    async def settle(ids: list[Any]) -> None:
        keys = {legacy_key(i): i for i in ids}
        async with db() as session:
            ok = set((await session.execute(
                select(LegacyIdMap.legacy_id).join(User, User.id == LegacyIdMap.new_id).where(
                    LegacyIdMap.kind == "user",
                    LegacyIdMap.legacy_id == phase3.text_array("k", keys)))).scalars())
            gone = set((await session.execute(select(LegacyReject.legacy_id).where(
                LegacyReject.collection == name, LegacyReject.legacy_id == phase3.text_array(
                    "r", set(keys) | {raw_id(i) for i in ids})))).scalars())
        for raw in ids:  # a duplicate _id is rejected by its raw id, while its key is mapped
            check.figures["users"] += 1
            if raw_id(raw) not in gone and legacy_key(raw) in ok:
                check.figures["mapped"] += 1
            elif raw_id(raw) in gone or legacy_key(raw) in gone:
                check.figures["rejected"] += 1
            else:
                check.problem(f"{name} {raw_id(raw)} is neither mapped to a user nor rejected")

    async for doc in collection(mongo, prefix, USERS).find({}, {"_id": 1}).batch_size(CHUNK):
        chunk.append(doc["_id"])
        if len(chunk) == CHUNK:
            await settle(chunk)
            chunk = []
    if chunk:
        await settle(chunk)
    return check


async def _references(mongo: MongoDatabase, db: Sessionmaker, ref: phase3.RefPath) -> Check:
    check = Check(f"references {ref.collection}.{ref.path}",
                  {"documents": 0, "values": 0, "legacyLooking": 0, "noSuchUser": 0})
    docs: list[dict] = []

    async def settle(batch: list[dict]) -> None:
        found = [(d["_id"], v) for d in batch for v in phase3.leaves(d, ref.parts) if v is not None]
        existing = await phase3.existing_users(db, (v for _, v in found if isinstance(v, str)))
        check.figures["documents"] += len(batch)
        check.figures["values"] += len(found)
        for _id, value in found:
            if phase3.is_new(value, existing):
                continue
            kind = "legacyLooking" if phase3.is_legacy_looking(value) else "noSuchUser"
            check.figures[kind] += 1
            what = "a legacy id" if kind == "legacyLooking" else "no user's id"
            check.problem(f"{ref.collection} {phase3.id_text(_id)}: {ref.path} holds {what}: "
                          f"{phase3.id_text(value)}")

    async for doc in mongo[ref.collection].find({}, {ref.parts[0]: 1}).batch_size(CHUNK):
        docs.append(doc)
        if len(docs) == CHUNK:
            await settle(docs)
            docs = []
    if docs:
        await settle(docs)
    return check


def _account_id(value: Any) -> str | None:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else text(value)


def _expected(kind: str, doc: dict, outcome: str, user_id: str | None,
              secret: str | None, as_of: datetime | None) -> dict[str, Any]:
    """What the PostgreSQL row must hold, from the legacy document alone."""
    if kind == "user":
        try:
            expected: dict[str, Any] = {"email": normalize_email(str(doc.get("email")))}
        except Invalid:
            expected = {"email": "(a valid email)"}
        if outcome == "imported":  # a later merge may fill what this one lacked, no more
            filled = {"name": text(doc.get("name")), "image": text(doc.get("image")),
                      "email_verified": moment(doc.get("emailVerified"))}
            expected |= {k: v for k, v in filled.items() if v is not None}
            role = doc.get("role")  # kept only as it is (`--keep-role`); else `user`
            expected["role"] = role if isinstance(role, str) and role else "user"
        return expected
    expected = {"user_id": user_id}
    if kind == "account":
        expected |= {"provider": text(doc.get("provider")),
                     "provider_account_id": _account_id(doc.get("providerAccountId"))}
        if outcome == "imported":
            expires = doc.get("expires_at")
            if isinstance(expires, str) and expires.strip().isdigit():
                expires = int(expires)
            ok = isinstance(expires, int | float) and not isinstance(expires, bool) \
                and 0 <= expires <= INT32_MAX
            expected |= {"type": text(doc.get("type")), "expires_at": int(expires) if ok else None}
            for name in auth.ACCOUNT_TOKENS:
                value = doc.get(name)
                expected[name] = value.replace("\x00", "") if isinstance(value, str) else None
        return expected
    if outcome == "imported" and as_of:  # a merged session is the row its token already had
        expected["expires"] = auth.capped_expiry(moment(doc.get("expires")), as_of)
    token = doc.get("sessionToken")
    if secret and isinstance(token, str) and token.strip():
        expected["session_token"] = session_token_hash(token, secret)
    return expected


SECRET_COLUMNS = {"session_token", "access_token", "refresh_token", "id_token"}


async def _sample(mongo: MongoDatabase, db: Sessionmaker, prefix: str, kind: str, name: str,
                  model, size: int, secret: str | None, as_of: datetime | None) -> Check:
    check = Check(f"sample {prefix}{name}", {"compared": 0, "rejected": 0})
    docs = await (await collection(mongo, prefix, name).aggregate(
        [{"$sample": {"size": size}}])).to_list()
    keys = {legacy_key(d["_id"]) for d in docs}
    owners = {legacy_key(d["userId"]) for d in docs if d.get("userId") is not None}
    async with db() as session:
        rows = {(k, key): (new, outcome) for k, key, new, outcome in (await session.execute(
            select(LegacyIdMap.kind, LegacyIdMap.legacy_id, LegacyIdMap.new_id,
                   LegacyIdMap.outcome).where(LegacyIdMap.legacy_id == phase3.text_array(
                       "k", keys | owners)))).all()}
        records = {r.id: r for r in (await session.execute(select(model).where(
            model.id == phase3.text_array("ids", {n for (k, _), (n, _) in rows.items()
                                                if k == kind})))).scalars()}
        rejected = set((await session.execute(select(LegacyReject.legacy_id).where(
            LegacyReject.collection == f"{prefix}{name}",
            LegacyReject.legacy_id == phase3.text_array(
                "r", keys | {raw_id(d["_id"]) for d in docs})))).scalars())
    for doc in docs:
        key = legacy_key(doc["_id"])
        if raw_id(doc["_id"]) in rejected or (kind, key) not in rows:
            if key in rejected or raw_id(doc["_id"]) in rejected:
                check.figures["rejected"] += 1
            else:
                check.problem(f"{name} {raw_id(doc['_id'])}: neither mapped nor rejected")
            continue
        new_id, outcome = rows[(kind, key)]
        record = records.get(new_id)
        if record is None:
            check.problem(f"{name} {raw_id(doc['_id'])}: maps to {new_id}, which does not exist")
            continue
        owner = doc.get("userId")
        user_id = rows.get(("user", legacy_key(owner)), (None,))[0] if owner is not None else None
        check.figures["compared"] += 1
        for column, want in _expected(kind, doc, outcome, user_id, secret, as_of).items():
            have = getattr(record, column)
            if have != want and (column, have) != ("role", "user"):
                shown = "differs" if column in SECRET_COLUMNS else f"is {have!r}, legacy {want!r}"
                check.problem(f"{name} {raw_id(doc['_id'])} -> {new_id}: {column} {shown}")
    return check


async def verify(mongo: MongoDatabase, db: Sessionmaker, *, prefix: str = "nextauth_",
                 secret: str | None = None, sample: int = 50,
                 refs: tuple[str, ...] | list[str] = ()) -> Report:
    async with db() as session:
        recorded = [cp.step for cp in await progress.load_all(session, phase3.STEP_PREFIX)]
        as_of = (await progress.load(session, "auth.sessions")).counts.get("asOf")
    paths = phase3.paths_for([*(s.removeprefix(phase3.STEP_PREFIX) for s in recorded), *refs])
    checks = await _steps_and_counts(mongo, db, prefix, [p.step for p in paths])
    checks.append(await _users_mapped(mongo, db, prefix))
    for path in paths:
        checks.append(await _references(mongo, db, path))
    for kind, name, model in (("user", USERS, User), ("account", ACCOUNTS, Account),
                              ("session", SESSIONS, Session)):
        checks.append(await _sample(mongo, db, prefix, kind, name, model, sample, secret,
                                    datetime.fromisoformat(as_of) if as_of else None))
    return Report(checks)
