"""Phase 2 on the messy data: every record imported, merged or rejected, and counted."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from panamia.identity.models import Account, Session, User
from panamia.identity.screennames import screenname_skeleton
from panamia.identity.tokens import session_token_hash
from panamia.legacy.auth import STEP_NAMES, CheckpointsLost, run_auth
from panamia.legacy.plan import plan_auth
from panamia.legacy.models import LegacyIdMap, LegacyReject
from panamia.legacy.progress import Move
from panamia.legacy.report import adds_up
from panamia.legacy.verify import verify
from tests.identity.factories import create_user
from tests.legacy.factories import NOW, Messy, insert, seed_messy, session_doc, user_doc

NATIVE_EMAIL = "native@example.org"
TAKEN = "taken_name"


def move(resources, batch_size: int = 3) -> Move:
    return Move(db=resources.db, mongo=resources.mongo, secret=resources.settings.secret,
                batch_size=batch_size)


@pytest.fixture
async def native(resources) -> str:
    return await create_user(resources, email=NATIVE_EMAIL, screenname=TAKEN, email_verified=NOW)


@pytest.fixture
async def legacy(resources, native) -> Messy:
    messy = await seed_messy(resources.mongo, native_email=NATIVE_EMAIL, taken_screenname=TAKEN)
    await run_auth(move(resources))
    return messy


async def mapped(connection, kind: str, key) -> tuple[str, str] | None:
    row = (await connection.execute(select(LegacyIdMap.new_id, LegacyIdMap.outcome).where(
        LegacyIdMap.kind == kind, LegacyIdMap.legacy_id == str(key)))).first()
    return tuple(row) if row else None


async def rejected(connection, collection: str, legacy_id) -> str | None:
    return (await connection.execute(select(LegacyReject.reason).where(
        LegacyReject.collection == f"nextauth_{collection}",
        LegacyReject.legacy_id == str(legacy_id)))).scalar()


async def user(connection, user_id: str):
    return (await connection.execute(select(User).where(User.id == user_id))).one()


async def counts(connection) -> dict[str, dict]:
    rows = await connection.execute(text("SELECT step, counts FROM legacy_progress"))
    return dict(rows.all())


class TestCounts:
    async def test_every_record_read_is_imported_merged_or_rejected(self, legacy, connection):
        steps = await counts(connection)
        outcome = {s: (c["read"], c.get("imported", 0), c.get("merged", 0), c.get("rejected", 0))
                   for s, c in steps.items()}
        assert outcome == {
            "auth.users": (12, 6, 2, 4),
            "auth.accounts": (10, 5, 1, 4),
            "auth.sessions": (11, 5, 1, 5),
            "auth.verification_tokens": (2, 0, 0, 2),
        }
        rejects = dict((await connection.execute(text(
            "SELECT collection, count(*) FROM legacy_rejects GROUP BY collection"))).all())
        assert rejects == {f"nextauth_{s.split('.')[1]}": o[3] for s, o in outcome.items()}
        kinds = dict((await connection.execute(text(
            "SELECT kind, count(*) FROM legacy_id_map GROUP BY kind"))).all())
        assert kinds == {"user": 8, "account": 6, "session": 6}

    async def test_the_reasons_are_counted_by_kind(self, legacy, connection):
        steps = await counts(connection)
        assert steps["auth.users"]["reasons"] == {
            "duplicate _id": 1, "no email": 2, "invalid email": 1}
        assert steps["auth.accounts"]["reasons"] == {
            "user missing": 1, "user rejected": 1, "missing field": 1,
            "provider account taken": 1}
        assert steps["auth.sessions"]["reasons"] == {
            "expired": 1, "user missing": 1, "malformed field": 1, "missing field": 1,
            "token taken": 1}


class TestUsers:
    async def test_the_same_email_is_one_user_and_the_first_by_id_wins(
            self, legacy, connection):
        ana_id, outcome = await mapped(connection, "user", legacy.users["ana"]["_id"])
        assert outcome == "imported"
        assert await mapped(connection, "user", legacy.users["ana_again"]["_id"]) == (
            ana_id, "merged")
        ana = await user(connection, ana_id)
        assert (ana.email, ana.name, ana.screenname) == ("ana@example.org", "Ana", "ana_m")
        assert ana.image == "https://img.example.org/ana.png"  # a blank filled by the merge
        assert ana.created_at == legacy.users["ana"]["_id"].generation_time

    async def test_an_email_already_in_postgresql_merges_into_that_user(
            self, legacy, connection, native):
        assert await mapped(connection, "user", legacy.users["native"]["_id"]) == (
            native, "merged")
        person = await user(connection, native)
        assert (person.email, person.name) == (NATIVE_EMAIL, "From Legacy")
        assert person.email_verified is not None
        steps = await counts(connection)
        assert steps["auth.users"]["notes"]["merged into a user who signed up on the new "
                                            "system"] == 1

    async def test_unusable_emails_are_rejected_with_the_document(self, legacy, connection):
        assert (await rejected(connection, "users", legacy.users["no_email"]["_id"])
                ).startswith("no email")
        assert (await rejected(connection, "users", legacy.users["number_email"]["_id"])
                ).startswith("no email")
        reason = await rejected(connection, "users", legacy.users["bad_email"]["_id"])
        assert reason.startswith("invalid email: not an email address")
        document = (await connection.execute(select(LegacyReject.document).where(
            LegacyReject.legacy_id == str(legacy.users["bad_email"]["_id"])))).scalar()
        assert document["email"] == "not-an-email"
        assert document["_id"] == {"$oid": str(legacy.users["bad_email"]["_id"])}

    async def test_an_id_written_as_text_is_the_same_id(self, legacy, connection):
        twin = legacy.users["twin"]["_id"]
        reason = await rejected(connection, "users", f'"{twin}"')
        assert reason == (f"duplicate _id: another document's _id is also {twin.lower()}")
        assert await mapped(connection, "user", "legacy-bo") is not None

    async def test_malformed_optional_fields_are_left_empty_and_noted(self, legacy, connection):
        odd_id, _ = await mapped(connection, "user", legacy.users["odd_fields"]["_id"])
        odd = await user(connection, odd_id)
        assert (odd.name, odd.email_verified) == (None, None)
        taken = await user(connection, (await mapped(
            connection, "user", legacy.users["taken_name"]["_id"]))[0])
        assert taken.screenname is None
        admin = await user(connection, (await mapped(
            connection, "user", legacy.users["admin"]["_id"]))[0])
        assert admin.email_verified.year == 2024
        notes = (await counts(connection))["auth.users"]["notes"]
        assert notes["ignored field favoriteColor"] == 1
        assert notes["emailVerified malformed (left empty)"] == 1
        assert notes["name malformed (left empty)"] == 1
        assert notes["screenname taken (left empty)"] == 1

    async def test_a_screenname_that_looks_like_a_taken_one_is_left_empty(
            self, resources, connection):
        await create_user(resources, screenname="hello",
                          screenname_skeleton=screenname_skeleton("hello"))
        docs = [user_doc(screenname=name) for name in ("he1lo", "fresh_name", "fresh_narne")]
        await insert(resources.mongo, "users", docs)

        await run_auth(move(resources))

        rows = [await user(connection, (await mapped(connection, "user", d["_id"]))[0])
                for d in docs]
        assert [(r.screenname, r.screenname_skeleton) for r in rows] == [
            (None, None), ("fresh_name", screenname_skeleton("fresh_name")), (None, None)]

    async def test_ids_of_other_types_are_read_too(self, legacy, connection):
        new_id, outcome = await mapped(connection, "user", "int:42")
        assert outcome == "imported"
        assert (await user(connection, new_id)).email == "fortytwo@example.org"


class TestRoles:
    async def test_only_roles_the_operator_names_are_kept_and_every_one_is_reported(
            self, resources, connection):
        docs = {role: user_doc(role=role) for role in ("admin", " Admin ", "ADMIN", "moderator")}
        docs[None] = user_doc()
        await insert(resources.mongo, "users", list(docs.values()))

        await run_auth(replace(move(resources), keep_roles=frozenset({"admin"})))

        roles = {raw: (await user(connection, (await mapped(connection, "user", d["_id"]))[0])
                       ).role for raw, d in docs.items()}
        assert roles == {"admin": "admin", " Admin ": "user", "ADMIN": "user",
                         "moderator": "user", None: "user"}
        assert (await counts(connection))["auth.users"]["roles"] == {
            '"admin" -> admin': 1, '" Admin " -> user': 1, '"ADMIN" -> user': 1,
            '"moderator" -> user': 1, "(none) -> user": 1}

    async def test_without_keep_role_a_legacy_admin_is_a_user(self, legacy, connection):
        admin = legacy.users["admin"]
        admin_id, _ = await mapped(connection, "user", admin["_id"])
        assert (await user(connection, admin_id)).role == "user"
        roles = (await counts(connection))["auth.users"]["roles"]
        assert roles['"admin" -> user'] == 1
        assert roles["(none) -> merged, not carried"] == 2


class TestAccounts:
    async def account(self, connection, provider: str, pid: str):
        return (await connection.execute(select(Account).where(
            Account.provider == provider, Account.provider_account_id == pid))).one()

    async def test_accounts_follow_their_user_through_merges_and_string_ids(
            self, legacy, connection):
        ana_id, _ = await mapped(connection, "user", legacy.users["ana"]["_id"])
        for provider, pid in (("github", "gh-ana"), ("google", "g-ana"), ("gitlab", "gl-ana")):
            assert (await self.account(connection, provider, pid)).user_id == ana_id
        google = await self.account(connection, "google", "g-ana")
        assert (google.type, google.id_token) == ("oidc", "eyJ.secret")
        assert (await self.account(connection, "gitlab", "gl-ana")).expires_at == 1900000000
        bo_id, _ = await mapped(connection, "user", "legacy-bo")
        assert (await self.account(connection, "github", "4242")).user_id == bo_id

    async def test_a_provider_account_seen_twice_is_merged_or_rejected(self, legacy, connection):
        first = await mapped(connection, "account", legacy.accounts["ana_github"]["_id"])
        again = legacy.accounts["same_provider_id_same_user"]["_id"]
        assert await mapped(connection, "account", again) == (first[0], "merged")
        other = legacy.accounts["same_provider_id_other_user"]["_id"]
        assert (await rejected(connection, "accounts", other)).startswith(
            "provider account taken")

    async def test_accounts_without_a_user_are_rejected(self, legacy, connection):
        orphan = await rejected(connection, "accounts", legacy.accounts["orphan"]["_id"])
        assert orphan.startswith("user missing: no user ")
        of_rejected = await rejected(connection, "accounts",
                                     legacy.accounts["of_rejected_user"]["_id"])
        assert of_rejected.startswith("user rejected: ") and "invalid email" in of_rejected
        assert await rejected(connection, "accounts", legacy.accounts["no_provider"]["_id"]) == (
            "missing field: provider missing")

    async def test_rejected_documents_keep_no_credentials(self, legacy, connection):
        document = (await connection.execute(select(LegacyReject.document).where(
            LegacyReject.legacy_id == str(legacy.accounts["orphan"]["_id"])))).scalar()
        assert document["access_token"] == "[redacted]"
        assert document["providerAccountId"] == "gh-nobody"
        dumped = (await connection.execute(text("SELECT document::text FROM legacy_rejects")))
        assert not any("gho_" in row[0] or "eyJ" in row[0] for row in dumped)

    async def test_malformed_token_fields_are_dropped(self, legacy, connection):
        account = await self.account(connection, "github", "gh-42")
        assert (account.expires_at, account.refresh_token) == (None, None)


class TestSessions:
    async def test_a_legacy_cookie_signs_in_as_the_migrated_user(
            self, legacy, connection, client):
        ana_id, _ = await mapped(connection, "user", legacy.users["ana"]["_id"])
        for session in ("ana", "ana_again"):
            client.cookies.clear()
            client.cookies.set("next-auth.session-token", legacy.sessions[session]["sessionToken"])
            answer = (await client.get("/api/auth/session")).json()
            assert answer["user"]["id"] == ana_id
            assert answer["user"]["email"] == "ana@example.org"

    async def test_the_token_is_stored_hashed_with_its_expiry(self, legacy, connection, settings):
        legacy_session = legacy.sessions["ana"]
        row = (await connection.execute(select(Session).where(
            Session.session_token == session_token_hash(legacy_session["sessionToken"],
                                                        settings.secret)))).one()
        assert row.expires == legacy_session["expires"]
        tokens = (await connection.execute(select(Session.session_token))).scalars().all()
        assert legacy_session["sessionToken"] not in tokens

    async def test_expired_orphaned_and_malformed_sessions_do_not_sign_in(
            self, legacy, connection, client):
        for name, reason in (("expired", "expired: "), ("orphan", "user missing: "),
                             ("bad_expires", "malformed field: expires malformed"),
                             ("same_token_other_user", "token taken: ")):
            session = legacy.sessions[name]
            assert (await rejected(connection, "sessions", session["_id"])).startswith(reason)
        client.cookies.set("next-auth.session-token", legacy.sessions["expired"]["sessionToken"])
        assert (await client.get("/api/auth/session")).json() == {}

    async def test_other_shapes_of_the_same_session_are_carried(self, legacy, connection):
        bo_id, _ = await mapped(connection, "user", "legacy-bo")
        iso = await mapped(connection, "session", legacy.sessions["iso_expires"]["_id"])
        row = (await connection.execute(select(Session).where(Session.id == iso[0]))).one()
        assert row.user_id == bo_id
        first = await mapped(connection, "session", legacy.sessions["ana"]["_id"])
        assert await mapped(connection, "session",
                            legacy.sessions["same_token_same_user"]["_id"]) == (first[0], "merged")


class TestSessionLifetime:
    async def test_a_session_is_carried_for_at_most_30_days_from_the_move(
            self, resources, connection, client):
        person = user_doc(emailVerified=NOW)
        forever = session_doc(person["_id"], expires=datetime(9999, 12, 31, tzinfo=UTC))
        await insert(resources.mongo, "users", [person])
        await insert(resources.mongo, "sessions", [forever])

        await run_auth(move(resources))

        client.cookies.set("next-auth.session-token", forever["sessionToken"])
        answer = (await client.get("/api/auth/session")).json()
        assert answer["user"]["id"] == (await mapped(connection, "user", person["_id"]))[0]
        ends = datetime.fromisoformat(answer["expires"])
        assert NOW + timedelta(days=29) < ends <= datetime.now(UTC) + timedelta(days=30)
        report = await verify(resources.mongo, resources.db, secret=resources.settings.secret)
        [sample] = [c for c in report.checks if c.name == "sample nextauth_sessions"]
        assert sample.ok and sample.figures["compared"] == 1


class TestVerificationTokens:
    async def test_they_are_dropped_and_reported(self, legacy, connection):
        for token in legacy.tokens:
            reason = await rejected(connection, "verification_tokens", token["_id"])
            assert reason.startswith("not carried over: sign-in links live 24 hours")
        rows = (await connection.execute(text("SELECT count(*) FROM verification_tokens")))
        assert rows.scalar() == 0


class TestRerun:
    async def test_a_second_run_changes_nothing(self, legacy, resources, connection):
        async def snapshot():
            tables = {}
            for table in ("users", "accounts", "sessions", "legacy_id_map", "legacy_rejects"):
                tables[table] = (await connection.execute(text(
                    f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t"
                ))).scalar()
            return tables, {s: {k: v for k, v in c.items() if k != "asOf"}
                            for s, c in (await counts(connection)).items()}

        before = await snapshot()
        checkpoints = await run_auth(move(resources, batch_size=2))
        assert await snapshot() == before
        assert [cp.step for cp in checkpoints] == list(STEP_NAMES)
        assert all(adds_up(cp) and cp.finished_at for cp in checkpoints)

    async def test_documents_added_later_are_picked_up(self, legacy, resources, connection):
        await insert(resources.mongo, "users", [user_doc(email="late@example.org")])
        await run_auth(move(resources))
        users = (await counts(connection))["auth.users"]
        assert (users["read"], users["imported"]) == (13, 7)
        late = (await connection.execute(select(func.count()).where(
            User.email == "late@example.org"))).scalar()
        assert late == 1


    async def test_a_rerun_without_its_checkpoints_refuses_to_start(
            self, legacy, resources, connection):
        await connection.execute(text("DELETE FROM legacy_progress"))
        with pytest.raises(CheckpointsLost, match="auth.users has no checkpoint"):
            await run_auth(move(resources))
        with pytest.raises(CheckpointsLost):
            await plan_auth(move(resources))


class TestNulCharacters:
    async def test_they_never_reach_postgresql(self, resources, connection):
        nul_email = user_doc(email="nul\x00@example.org", name="x")
        nul_name = user_doc(email="nul-name@example.org", name="Nu\x00ll", _x="\x00")
        await insert(resources.mongo, "users", [nul_email, nul_name])
        await run_auth(move(resources))
        assert "\x00" not in await rejected(connection, "users", nul_email["_id"])
        nul_id, _ = await mapped(connection, "user", nul_name["_id"])
        assert (await user(connection, nul_id)).name == "Nu\ufffdll"
