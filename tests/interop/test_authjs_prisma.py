"""docs/identity.md's promise: a Next.js app with Auth.js and `@auth/prisma-adapter`, set up
with the doc's `schema.prisma` and adapter wrapper, shares users, accounts, sessions and
sign-in links with the Python services.

Each adapter method runs in Node exactly as Auth.js calls it; each row is then checked as
PostgreSQL stores it and as the Python services see it.
"""

import hashlib
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from panamia.identity import oauth, service
from panamia.identity.models import Account, Session, User, VerificationToken
from panamia.identity.tokens import session_token_hash, verification_token_hash
from tests.fixtures.resources import TEST_SECRET
from tests.identity.factories import create_user, unique_email
from tests.interop.doc import doc_block

CUID2 = re.compile(r"[a-z][0-9a-z]{23}")
COOKIE = "authjs.session-token"
AUTHJS_LINK = re.compile(r"http\S+/api/auth/callback/nodemailer\?\S+")


def iso(moment: datetime) -> str:
    """A JavaScript Date's JSON form: UTC, milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def rows(resources, table, *where) -> list:
    async with resources.engine.connect() as conn:
        return (await conn.execute(select(table.__table__).where(*where))).mappings().all()


async def one_row(resources, table, *where):
    [row] = await rows(resources, table, *where)
    return row


async def python_session(python_app, raw: str) -> dict:
    """`GET /api/auth/session` on the main app with `raw` as the session cookie."""
    python_app.cookies.clear()
    python_app.cookies.set(COOKIE, raw)
    answer = await python_app.get("/api/auth/session")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def python_sign_in(resources, user_id: str) -> str:
    async with resources.db.begin() as db:
        return (await service.start_session(db, resources, user_id, "Firefox")).token


async def new_adapter_user(adapter, **fields) -> dict:
    # Auth.js passes an id of its own; the Prisma adapter drops it for `@default(cuid(2))`.
    return await adapter("createUser", {
        "id": str(uuid.uuid4()), "email": unique_email("next"), "emailVerified": None, **fields,
    })


async def authjs_email_link(nextjs, mailbox, email: str) -> str:
    """Ask the Next.js app for a sign-in link (Auth.js's Nodemailer provider) and read the mail."""
    csrf = (await nextjs.get("/api/auth/csrf")).json()["csrfToken"]
    answer = await nextjs.post("/api/auth/signin/nodemailer", data={
        "email": email, "csrfToken": csrf, "callbackUrl": "/",
    })
    assert answer.status_code == 302, answer.text
    assert "verify-request" in answer.headers["location"]
    [mail] = mailbox.to(email)
    return AUTHJS_LINK.search(mail.get_body(("plain",)).get_content()).group(0)


def doc_columns(table: str) -> dict[str, tuple[str, bool]]:
    """The doc's schema.prisma read as PostgreSQL types: column -> (type, nullable)."""
    schema = doc_block("prisma")
    models = dict(re.findall(r"^model (\w+) \{\n(.*?)^\}", schema, re.M | re.S))
    body = next(b for b in models.values() if f'@@map("{table}")' in b)
    columns = {}
    for field in re.finditer(r"^  (\w+) +(\w+)(\?|\[\])? *(.*)$", body, re.M):
        name, kind, modifier, attributes = field.groups()
        if kind in models:
            continue  # a relation, not a column
        column = re.search(r'@map\("(\w+)"\)', attributes)
        native = re.search(r"@db\.(\w+)(?:\((\d+)\))?", attributes)
        pg_type = {
            ("String", None): "text",
            ("Int", None): "integer",
            ("String", "VarChar"): f"character varying({native and native[2]})",
            # PostgreSQL's default precision, 6, is what format_type leaves out.
            ("DateTime", "Timestamptz"): "timestamp with time zone"
            if native and native[2] == "6" else "timestamp(n) with time zone",
        }[kind, native and native[1]]
        columns[column[1] if column else name] = (pg_type, modifier == "?")
    return columns


class TestDocumentedSchema:
    @pytest.mark.parametrize("table", ["users", "accounts", "sessions", "verification_tokens"])
    async def test_lists_every_column_with_its_type_and_nullability(self, python_side, table):
        async with python_side.engine.connect() as conn:
            found = (await conn.execute(text(
                "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull"
                " FROM pg_attribute WHERE attrelid = CAST(:table AS regclass)"
                " AND attnum > 0 AND NOT attisdropped"
            ), {"table": table})).all()
        assert doc_columns(table) == {name: (pg_type, null) for name, pg_type, null in found}


class TestAdapterMethods:
    async def test_create_user_mints_a_cuid2_id_python_signs_in_with(self, adapter, python_side,
                                                                    python_app):
        made = await new_adapter_user(adapter, name="Ana Next", image="https://img.example/a.png")

        row = await one_row(python_side, User, User.id == made["id"])
        assert CUID2.fullmatch(row["id"])
        assert (row["email"], row["name"], row["image"], row["role"]) == (
            made["email"], "Ana Next", "https://img.example/a.png", "user")
        assert row["email_verified"] is None and row["screenname_skeleton"] is None
        seen = await python_session(python_app, await python_sign_in(python_side, made["id"]))
        assert seen["user"] == {
            "id": made["id"], "email": made["email"], "name": "Ana Next",
            "image": "https://img.example/a.png", "screenname": None, "role": "user",
            "isAdmin": False,
        }

    async def test_finds_a_user_python_made_by_id_and_by_email(self, adapter, python_side):
        verified = datetime(2026, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
        email = unique_email("py")
        user_id = await create_user(python_side, email=email, name="Py", email_verified=verified)

        expected = {"id": user_id, "email": email, "name": "Py", "image": None,
                    "emailVerified": iso(verified)}
        assert (await adapter("getUser", user_id)).items() >= expected.items()
        assert (await adapter("getUserByEmail", email)).items() >= expected.items()
        assert await adapter("getUserByEmail", unique_email("nobody")) is None
        assert await adapter("getUser", "no-such-user") is None

    async def test_update_user_is_what_python_then_serves(self, adapter, python_side, python_app):
        user_id = await create_user(python_side, name="Before")
        before = await one_row(python_side, User, User.id == user_id)
        verified = datetime.now(UTC).replace(microsecond=0)

        await adapter("updateUser",
                      {"id": user_id, "name": "After", "emailVerified": iso(verified)})

        row = await one_row(python_side, User, User.id == user_id)
        assert (row["name"], row["email_verified"]) == ("After", verified)
        assert row["updated_at"] > before["updated_at"]
        seen = await python_session(python_app, await python_sign_in(python_side, user_id))
        assert seen["user"]["name"] == "After"

    async def test_link_and_unlink_an_account(self, adapter, python_side):
        email = unique_email("linked")
        user_id = await create_user(python_side, email=email)
        subject = f"sub-{uuid.uuid4().hex[:8]}"
        await adapter("linkAccount", {
            "userId": user_id, "type": "oidc", "provider": "oidc", "providerAccountId": subject,
            "access_token": "at", "expires_at": 1_900_000_000, "token_type": "bearer",
            "scope": "openid email", "id_token": "idt",
        })

        row = await one_row(python_side, Account, Account.provider_account_id == subject)
        assert CUID2.fullmatch(row["id"])
        assert (row["user_id"], row["type"], row["provider"], row["access_token"],
                row["expires_at"], row["refresh_token"]) == (
            user_id, "oidc", "oidc", "at", 1_900_000_000, None)
        by_account = {"provider": "oidc", "providerAccountId": subject}
        assert (await adapter("getUserByAccount", by_account))["id"] == user_id
        profile = oauth.ProviderProfile(subject, email, True, None, None)
        python = await oauth.sign_in_with_provider(
            python_side, "oidc", "oidc", profile, {}, signed_in_as=None, previous_session=None)
        assert python.user_id == user_id

        await adapter("unlinkAccount", by_account)

        assert await rows(python_side, Account, Account.provider_account_id == subject) == []
        assert await adapter("getUserByAccount", by_account) is None
        with pytest.raises(oauth.OAuthSignInError) as refused:
            await oauth.sign_in_with_provider(
                python_side, "oidc", "oidc", profile, {}, signed_in_as=None, previous_session=None)
        assert refused.value.error == "OAuthAccountNotLinked"

    async def test_session_create_read_update_delete(self, adapter, python_side, python_app):
        user_id = await create_user(python_side)
        raw = str(uuid.uuid4())  # Auth.js's session token
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)

        made = await adapter("createSession",
                             {"sessionToken": raw, "userId": user_id, "expires": iso(expires)})

        assert made["sessionToken"] == raw
        row = await one_row(python_side, Session, Session.user_id == user_id)
        assert row["session_token"] == session_token_hash(raw, TEST_SECRET) != raw
        assert (row["expires"], row["user_agent"], row["last_seen_at"]) == (expires, None, None)
        found = await adapter("getSessionAndUser", raw)
        assert (found["session"]["sessionToken"], found["user"]["id"]) == (raw, user_id)
        assert found["session"]["expires"] == iso(expires)
        assert (await python_session(python_app, raw))["user"]["id"] == user_id

        later = expires + timedelta(days=2)
        updated = await adapter("updateSession", {"sessionToken": raw, "expires": iso(later)})
        assert updated["sessionToken"] == raw
        assert (await one_row(python_side, Session, Session.id == row["id"]))["expires"] == later

        await adapter("deleteSession", raw)
        assert await rows(python_side, Session, Session.user_id == user_id) == []
        assert await adapter("getSessionAndUser", raw) is None
        assert await python_session(python_app, raw) == {}

    async def test_a_session_python_started_is_found_by_its_cookie_value(self, adapter,
                                                                         python_side):
        user_id = await create_user(python_side)
        raw = await python_sign_in(python_side, user_id)

        found = await adapter("getSessionAndUser", raw)

        assert (found["session"]["sessionToken"], found["user"]["id"]) == (raw, user_id)
        assert await adapter("getSessionAndUser", session_token_hash(raw, TEST_SECRET)) is None

    async def test_create_and_use_a_verification_token(self, adapter, python_side):
        email, raw = unique_email("link"), secrets.token_hex(32)
        token = hashlib.sha256(f"{raw}{TEST_SECRET}".encode()).hexdigest()  # Auth.js's hash
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=24)

        await adapter("createVerificationToken",
                      {"identifier": email, "token": token, "expires": iso(expires)})

        row = await one_row(python_side, VerificationToken, VerificationToken.identifier == email)
        assert (row["token"], row["expires"]) == (verification_token_hash(raw, TEST_SECRET),
                                                  expires)
        used = await adapter("useVerificationToken", {"identifier": email, "token": token})
        assert used == {"identifier": email, "token": token, "expires": iso(expires)}
        assert await rows(python_side, VerificationToken,
                          VerificationToken.identifier == email) == []
        assert await adapter("useVerificationToken", {"identifier": email, "token": token}) is None
        with pytest.raises(service.VerificationFailed):
            await service.complete_email_sign_in(python_side, email, raw, None)

    async def test_delete_user_takes_accounts_and_sessions(self, adapter, python_side,
                                                          python_app):
        user = await new_adapter_user(adapter)
        await adapter("linkAccount", {"userId": user["id"], "type": "oauth",
                                      "provider": "github", "providerAccountId": user["id"]})
        raw = await python_sign_in(python_side, user["id"])

        await adapter("deleteUser", user["id"])

        for table in (User, Account, Session):
            column = table.id if table is User else table.user_id
            assert await rows(python_side, table, column == user["id"]) == []
        assert await python_session(python_app, raw) == {}
        assert await adapter("getUser", user["id"]) is None


class TestCrossings:
    async def test_a_session_python_started_is_read_through_authjs(self, nextjs, python_side):
        email = unique_email("py-session")
        user_id = await create_user(python_side, email=email, name="Python")
        raw = await python_sign_in(python_side, user_id)
        expires = (await one_row(python_side, Session, Session.user_id == user_id))["expires"]

        nextjs.cookies.set(COOKIE, raw)
        answer = await nextjs.get("/api/auth/session")

        assert answer.status_code == 200, answer.text
        assert answer.json()["user"] == {"name": "Python", "email": email, "image": None}
        assert answer.json()["expires"] == iso(expires)

    async def test_a_session_authjs_started_is_accepted_by_python(self, nextjs, mailbox,
                                                                  python_side, python_app):
        email = unique_email("next-session")
        link = await authjs_email_link(nextjs, mailbox, email)

        signed_in = await nextjs.get(link)

        assert signed_in.status_code == 302, signed_in.text
        raw = nextjs.cookies[COOKIE]
        user = await one_row(python_side, User, User.email == email)
        assert CUID2.fullmatch(user["id"]) and user["email_verified"] is not None
        row = await one_row(python_side, Session, Session.user_id == user["id"])
        assert row["session_token"] == session_token_hash(raw, TEST_SECRET)
        seen = await python_session(python_app, raw)
        assert (seen["user"]["id"], seen["user"]["email"]) == (user["id"], email)
        assert (await one_row(python_side, Session, Session.id == row["id"]))["last_seen_at"]

    async def test_a_link_authjs_stored_is_consumed_by_python(self, nextjs, mailbox,
                                                              python_side, python_app):
        email = unique_email("next-link")
        link = await authjs_email_link(nextjs, mailbox, email)
        raw = parse_qs(urlsplit(link).query)["token"][0]
        stored = await one_row(python_side, VerificationToken,
                               VerificationToken.identifier == email)
        assert stored["token"] == verification_token_hash(raw, TEST_SECRET)

        signed_in = await service.complete_email_sign_in(python_side, email, raw, None)

        assert await rows(python_side, VerificationToken,
                          VerificationToken.identifier == email) == []
        user = await one_row(python_side, User, User.email == email)
        assert signed_in.user_id == user["id"] and user["email_verified"] is not None
        seen = await python_session(python_app, signed_in.token)
        assert seen["user"]["email"] == email
        replayed = await nextjs.get(link)
        assert "error=Verification" in replayed.headers["location"]
        assert COOKIE not in nextjs.cookies
