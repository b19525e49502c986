"""What a phase 2 batch looks up and writes, against PostgreSQL (`run`) or a dry overlay (`plan`).

A batch asks once for everything its documents could collide with (`Lookup` -> `Known`),
decides each document in order while updating `Known` (so later documents in the batch
see earlier ones), then hands its `Writes` to the store. `PgStore` writes them in the
caller's transaction; `PlanStore` writes nothing and remembers `Known` instead, so the
plan's later batches see what earlier ones would have written.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.models import Account, Session, User
from panamia.identity.screennames import screenname_skeleton
from panamia.legacy.models import LegacyIdMap, LegacyReject
from panamia.legacy.refs import text_array


@dataclass
class UserRow:
    id: str
    name: str | None
    image: str | None
    email_verified: datetime | None
    screenname: str | None
    native: bool  # signed up on the new system, not imported


@dataclass
class Lookup:
    emails: set[str] = field(default_factory=set)
    screennames: set[str] = field(default_factory=set)  # lower case
    mapped: set[tuple[str, str]] = field(default_factory=set)  # (kind, legacy key)
    rejected: set[tuple[str, str]] = field(default_factory=set)  # (collection, legacy id)
    accounts: set[tuple[str, str]] = field(default_factory=set)  # (provider, account id)
    sessions: set[str] = field(default_factory=set)  # token hashes


@dataclass
class Known:
    users: dict[str, UserRow] = field(default_factory=dict)  # by normalized email
    screennames: set[str] = field(default_factory=set)  # skeletons of those taken
    mapped: dict[tuple[str, str], str] = field(default_factory=dict)
    rejected: dict[tuple[str, str], str] = field(default_factory=dict)  # -> reason
    accounts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # id, user
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> id, user


@dataclass
class Writes:
    users: list[dict] = field(default_factory=list)
    user_fills: dict[str, dict] = field(default_factory=dict)
    accounts: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    mapped: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)


def skeletons(names: set[str]) -> set[str]:
    return {screenname_skeleton(name) for name in names}


def pair_in(first, second, pairs: set[tuple[str, str]]) -> ColumnElement[bool]:
    """`(first, second) IN pairs`, as `first = a AND second = ANY(<array>)` per distinct `a`
    (a kind, a collection, a provider: a handful): its few shapes are compiled once, where
    an IN list of a batch's pairs was compiled again for every batch."""
    by_first: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        by_first[a].add(b)
    return or_(*(and_(first == a, second == text_array(f"{second.key}_{i}", bs))
                 for i, (a, bs) in enumerate(sorted(by_first.items()))))


class PgStore:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def lookup(self, q: Lookup) -> Known:
        known = Known()
        run = self.session.execute
        if q.emails:
            imported = exists().where(LegacyIdMap.kind == "user", LegacyIdMap.new_id == User.id,
                                      LegacyIdMap.outcome == "imported")
            rows = await run(select(
                func.lower(User.email), User.id, User.name, User.image, User.email_verified,
                User.screenname, ~imported,
            ).where(func.lower(User.email) == text_array("emails", q.emails)))
            known.users = {email: UserRow(*rest) for email, *rest in rows}
        if q.screennames:  # rows from before skeletons existed have none: match the name too
            known.screennames = {screenname_skeleton(name) for name in (await run(
                select(User.screenname).where(or_(
                    func.lower(User.screenname) == text_array("names", q.screennames),
                    User.screenname_skeleton == text_array("skeletons",
                                                           skeletons(q.screennames))))
            )).scalars()}
        if q.mapped:
            rows = await run(select(LegacyIdMap.kind, LegacyIdMap.legacy_id, LegacyIdMap.new_id)
                             .where(pair_in(LegacyIdMap.kind, LegacyIdMap.legacy_id, q.mapped)))
            known.mapped = {(kind, key): new_id for kind, key, new_id in rows}
        if q.rejected:
            rows = await run(
                select(LegacyReject.collection, LegacyReject.legacy_id, LegacyReject.reason)
                .where(pair_in(LegacyReject.collection, LegacyReject.legacy_id, q.rejected)))
            known.rejected = {(coll, key): reason for coll, key, reason in rows}
        if q.accounts:
            rows = await run(
                select(Account.provider, Account.provider_account_id, Account.id, Account.user_id)
                .where(pair_in(Account.provider, Account.provider_account_id, q.accounts)))
            known.accounts = {(p, pid): (id_, user) for p, pid, id_, user in rows}
        if q.sessions:
            rows = await run(select(Session.session_token, Session.id, Session.user_id)
                             .where(Session.session_token == text_array("tokens", q.sessions)))
            known.sessions = {token: (id_, user) for token, id_, user in rows}
        return known

    async def write(self, writes: Writes, known: Known) -> None:
        run = self.session.execute
        # Parents before children: users, then the accounts and sessions pointing at them.
        for table, rows in ((User, writes.users), (Account, writes.accounts),
                            (Session, writes.sessions), (LegacyIdMap, writes.mapped),
                            (LegacyReject, writes.rejects)):
            if rows:
                await run(insert(table), rows)
        for user_id, values in writes.user_fills.items():
            await run(update(User).where(User.id == user_id).values(**values))


class PlanStore:
    """Reads PostgreSQL, writes nothing; what it would have written it keeps in memory
    (a few hundred bytes per record read, which bounds the size a plan can handle)."""

    def __init__(self, session: AsyncSession):
        self.pg = PgStore(session)
        self.memory = Known()

    async def lookup(self, q: Lookup) -> Known:
        known, memory = await self.pg.lookup(q), self.memory
        known.users.update({k: memory.users[k] for k in q.emails if k in memory.users})
        known.screennames |= skeletons(q.screennames) & memory.screennames
        for name, keys in (("mapped", q.mapped), ("rejected", q.rejected),
                           ("accounts", q.accounts), ("sessions", q.sessions)):
            have, mine = getattr(known, name), getattr(memory, name)
            have.update({k: mine[k] for k in keys if k in mine})
        return known

    async def write(self, writes: Writes, known: Known) -> None:
        memory = self.memory
        memory.users.update(known.users)
        memory.screennames |= known.screennames
        memory.mapped.update(known.mapped)
        memory.rejected.update(known.rejected)
        memory.accounts.update(known.accounts)
        memory.sessions.update(known.sessions)


Store = PgStore | PlanStore
