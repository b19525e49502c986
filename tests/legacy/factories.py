"""NextAuth's MongoDB collections as its adapter writes them, and as real data spoils them."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from panamia.db.mongo import MongoDatabase

PREFIX = "nextauth_"
NOW = datetime.now(UTC).replace(microsecond=0)


def user_doc(*, _id=None, email: str | None = None, **fields) -> dict:
    doc = {"_id": _id if _id is not None else ObjectId(),
           "email": email or f"person-{uuid.uuid4().hex[:10]}@example.org",
           "name": "A Person", "image": None, "emailVerified": None}
    return {**doc, **fields}


def account_doc(user_id, *, provider: str = "github", provider_account_id=None,
                **fields) -> dict:
    doc = {"_id": ObjectId(), "userId": user_id, "type": "oauth", "provider": provider,
           "providerAccountId": provider_account_id or uuid.uuid4().hex[:12],
           "access_token": f"gho_{uuid.uuid4().hex}", "token_type": "bearer",
           "scope": "read:user,user:email", "expires_at": None, "refresh_token": None,
           "id_token": None, "session_state": None}
    return {**doc, **fields}


def session_doc(user_id, *, token: str | None = None, expires=None, **fields) -> dict:
    return {"_id": ObjectId(), "sessionToken": token or str(uuid.uuid4()), "userId": user_id,
            "expires": expires if expires is not None else NOW + timedelta(days=20), **fields}


def token_doc(identifier: str, **fields) -> dict:
    return {"_id": ObjectId(), "identifier": identifier, "token": uuid.uuid4().hex * 2,
            "expires": NOW + timedelta(hours=12), **fields}


async def insert(mongo: MongoDatabase, name: str, docs: list[dict]) -> None:
    if docs:
        await mongo[f"{PREFIX}{name}"].insert_many(docs, ordered=True)


@dataclass
class Messy:
    """Handles on the seeded documents, by the case they stand for."""

    users: dict[str, dict] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)
    tokens: list[dict] = field(default_factory=list)


async def seed_messy(mongo: MongoDatabase, *, native_email: str, taken_screenname: str) -> Messy:
    """One document per messy case (see docs/legacy-migration.md); `native_email` and
    `taken_screenname` belong to a user who signed up on the new system first."""
    m = Messy()
    oid = [ObjectId() for _ in range(12)]  # increasing: fixes the _id order below
    u = m.users
    u["ana"] = user_doc(_id=oid[0], email="Ana@Example.org", name="Ana",
                        emailVerified=NOW - timedelta(days=300), screenname="ana_m")
    u["ana_again"] = user_doc(_id=oid[1], email="  ANA@example.ORG ", name="Ana Again",
                              image="https://img.example.org/ana.png",
                              emailVerified=NOW - timedelta(days=30))
    u["native"] = user_doc(_id=oid[2], email=native_email.upper(), name="From Legacy",
                           emailVerified=NOW - timedelta(days=50))
    u["no_email"] = user_doc(_id=oid[3], email=None)
    del u["no_email"]["email"]
    u["bad_email"] = user_doc(_id=oid[4], email="not-an-email")
    u["number_email"] = user_doc(_id=oid[5], email=None)
    u["number_email"]["email"] = 12345
    u["odd_fields"] = user_doc(_id=oid[6], email="odd@example.org", emailVerified="yesterday",
                               name=["not", "text"], favoriteColor="teal")
    u["taken_name"] = user_doc(_id=oid[7], email="taken@example.org",
                               screenname=taken_screenname.upper())
    u["admin"] = user_doc(_id=oid[8], email="boss@example.org", role="admin",
                          emailVerified="2024-05-01T10:00:00.000Z")
    u["string_id"] = user_doc(_id="legacy-bo", email="bo@example.org", name="Bo")
    u["twin"] = user_doc(_id=str(oid[0]).upper(), email="twin@example.org")
    u["int_id"] = user_doc(_id=42, email="fortytwo@example.org")
    await insert(mongo, "users", list(u.values()))

    a = m.accounts
    a["ana_github"] = account_doc(oid[0], provider_account_id="gh-ana")
    a["ana_again_google"] = account_doc(oid[1], provider="google", type="oidc",
                                        provider_account_id="g-ana", id_token="eyJ.secret")
    a["userid_as_string"] = account_doc(str(oid[0]), provider="gitlab",
                                        provider_account_id="gl-ana", expires_at="1900000000")
    a["string_user"] = account_doc("legacy-bo", provider_account_id=4242)
    a["orphan"] = account_doc(ObjectId(), provider_account_id="gh-nobody")
    a["of_rejected_user"] = account_doc(oid[4], provider_account_id="gh-bad")
    a["no_provider"] = account_doc(oid[0], provider=None)
    a["same_provider_id_same_user"] = account_doc(oid[1], provider_account_id="gh-ana")
    a["same_provider_id_other_user"] = account_doc("legacy-bo", provider_account_id="gh-ana")
    a["of_int_user"] = account_doc(42, provider_account_id="gh-42", expires_at=2**40,
                                   refresh_token={"not": "text"})
    await insert(mongo, "accounts", list(a.values()))

    s = m.sessions
    s["ana"] = session_doc(oid[0])
    s["ana_again"] = session_doc(oid[1])
    s["native"] = session_doc(oid[2])
    s["expired"] = session_doc(oid[0], expires=NOW - timedelta(days=1))
    s["orphan"] = session_doc(ObjectId())
    s["iso_expires"] = session_doc("legacy-bo", expires=(NOW + timedelta(days=5)).isoformat())
    s["bad_expires"] = session_doc(oid[0], expires="soon")
    s["no_token"] = session_doc(oid[0])
    del s["no_token"]["sessionToken"]
    s["same_token_same_user"] = session_doc(oid[1], token=s["ana"]["sessionToken"])
    s["same_token_other_user"] = session_doc("legacy-bo", token=s["ana"]["sessionToken"])
    s["of_int_user"] = session_doc(42)
    await insert(mongo, "sessions", list(s.values()))

    m.tokens = [token_doc("ana@example.org"),
                token_doc("bo@example.org", expires=NOW - timedelta(days=3))]
    await insert(mongo, "verification_tokens", m.tokens)
    return m


async def seed_bulk(mongo: MongoDatabase, *, users: int, seed: int) -> None:
    """`users` users (with case-variant duplicates, most of them verified, string ids, bad
    emails; the first is first@example.org), one account and one session each (some
    orphaned, expired or colliding), a few verification tokens."""
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    user_ids, user_docs = [], []
    for i in range(users):
        _id = ObjectId.from_datetime(base + timedelta(seconds=i))
        _id = ObjectId(str(_id)[:8] + f"{i:016x}")  # unique and increasing, seed-independent
        roll = rng.random()
        if roll < 0.1:
            _id = f"str-{i:05d}"
        email = f"user{rng.randrange(users)}@example.org" if i else "  First@Example.org"
        if roll > 0.95 and i:
            email = f"broken-{i}"
        elif rng.random() < 0.3:
            email = f"  {email.upper()} "
        verified = base if rng.random() < 0.8 else None
        user_docs.append(user_doc(_id=_id, email=email, name=f"User {i}", emailVerified=verified,
                                  screenname=f"user_{rng.randrange(users)}"))
        user_ids.append(_id)
    accounts, sessions = [], []
    for i, _id in enumerate(user_ids):
        owner = _id if rng.random() > 0.05 else ObjectId()
        if isinstance(owner, ObjectId) and rng.random() < 0.2:
            owner = str(owner)
        acc = account_doc(owner, provider_account_id=f"gh-{rng.randrange(users * 2)}",
                          _id=ObjectId(f"{i + 1:024x}"))
        accounts.append(acc)
        days = rng.choice([-3, 7, 15, 25])
        sessions.append(session_doc(owner, token=f"tok-{rng.randrange(users * 3)}",
                                    expires=NOW + timedelta(days=days),
                                    _id=ObjectId(f"{i + 1:024x}")))
    await insert(mongo, "users", user_docs)
    await insert(mongo, "accounts", accounts)
    await insert(mongo, "sessions", sessions)
    await insert(mongo, "verification_tokens",
                 [token_doc(f"user{i}@example.org", _id=ObjectId(f"{i + 1:024x}"))
                  for i in range(5)])
