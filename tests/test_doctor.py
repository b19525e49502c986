from datetime import UTC, datetime, timedelta
from pathlib import Path

from bson import ObjectId
from sqlalchemy import event, update

from panamia import doctor, references
from panamia.identity.account import delete_account
from panamia.outbox import service
from panamia.outbox.models import OutboxEvent
from tests.fixtures.cli import invoke
from tests.identity.factories import create_user, sign_in_as
from tests.notifications.factories import delivered, like

GHOST = "ghost0000000000000000000000"
DOCS = Path(__file__).parents[1] / "docs" / "outbox.md"


def finding(report, name: str) -> doctor.ReferenceFinding:
    return next(f for f in report.references if f.reference == name)


class TestReferences:
    async def test_a_consistent_state_is_ok(self, resources):
        ana, ben = await create_user(resources), await create_user(resources)
        await resources.mongo.profiles.insert_one({"userId": ana})
        await resources.mongo.articles.insert_one({"authorId": ana, "coAuthorIds": [ben]})
        await delivered(resources, like(ana, ben))

        report = await doctor.check(resources)

        assert report.ok
        assert [f.reference for f in report.references] == [r.name for r in references.REFERENCES]
        assert all(f.missing_ids == 0 and not f.problem for f in report.references)

    async def test_a_profile_naming_no_user_is_an_orphan(self, resources):
        legacy = ObjectId()  # an id from before the move to PostgreSQL
        await resources.mongo.profiles.insert_many(
            [{"userId": GHOST}, {"userId": legacy}, {"userId": None}])

        report = await doctor.check(resources)

        assert not report.ok
        orphan = finding(report, "profiles.userId")
        assert (orphan.problem, orphan.missing_ids, orphan.documents) == (True, 2, 2)
        assert orphan.sample_ids == sorted([GHOST, str(legacy)])

    async def test_content_kept_from_a_deleted_user_is_counted_not_a_problem(self, resources):
        ben = await create_user(resources)
        await resources.mongo.articles.insert_one({"authorId": GHOST, "coAuthorIds": [ben, GHOST]})

        report = await doctor.check(resources)

        assert report.ok
        for name in ("articles.authorId", "articles.coAuthorIds"):
            assert (finding(report, name).documents, finding(report, name).problem) == (1, False)

    async def test_a_deletion_waiting_in_the_outbox_is_not_yet_an_orphan(self, resources):
        ana = await create_user(resources)
        await resources.mongo.profiles.insert_one({"userId": ana})
        await delete_account(resources, ana)

        report = await doctor.check(resources)

        profiles = finding(report, "profiles.userId")
        assert (profiles.missing_ids, profiles.awaiting_relay, profiles.documents) == (1, 1, 0)
        assert report.ok

    async def test_ids_go_to_postgresql_in_chunks(self, resources, connection, monkeypatch):
        monkeypatch.setattr(doctor, "CHUNK", 10)
        users = [await create_user(resources) for _ in range(5)]
        await resources.mongo.profiles.insert_many(
            [{"userId": u} for u in users] + [{"userId": f"ghost{i}"} for i in range(20)])
        statements = []

        def record(conn, cursor, statement, *args):
            if "FROM users" in statement:
                statements.append(statement)

        event.listen(connection.sync_connection, "before_cursor_execute", record)
        try:
            report = await doctor.check(resources)
        finally:
            event.remove(connection.sync_connection, "before_cursor_execute", record)
        assert finding(report, "profiles.userId").documents == 20
        assert len(statements) == 3  # 25 distinct ids, 10 a query


class TestStaleEvents:
    async def test_an_event_undelivered_past_the_threshold_is_a_problem(self, resources):
        event_id = await _enqueue(resources)
        soon = await doctor.check(resources, now=datetime.now(UTC) + timedelta(minutes=10))
        late = await doctor.check(resources, now=datetime.now(UTC) + timedelta(minutes=20))

        assert soon.ok and soon.stale_events.count == 0
        assert not late.ok
        assert (late.stale_events.count, late.stale_events.oldest.id) == (1, event_id)
        assert late.stale_events.stale_after_minutes == 15


async def _enqueue(resources, topic: str = "test.nobody") -> str:
    async with resources.db.begin() as db:
        return await service.enqueue(db, topic, {})


class TestCommand:
    async def test_orphans_and_stale_events_exit_1(self, committed, cli_env):
        await committed.mongo.profiles.insert_one({"userId": GHOST})
        event_id = await _enqueue(committed, "test.stuck")
        async with committed.db.begin() as db:
            await db.execute(update(OutboxEvent).values(
                created_at=datetime.now(UTC) - timedelta(hours=2), attempts=3,
                last_error="RuntimeError: boom"))

        result = await invoke("doctor")
        assert result.exit_code == 1, result.output
        assert "orphans" in result.output and GHOST in result.output
        assert "RuntimeError: boom" in result.output

        result = await invoke("doctor", "--json", "--stale-after", "60")
        assert result.exit_code == 1, result.output
        report = doctor.ConsistencyReport.model_validate_json(result.stdout)
        assert finding(report, "profiles.userId").sample_ids == [GHOST]
        assert (report.stale_events.count, report.stale_events.oldest.id) == (1, event_id)
        assert report.stale_events.oldest.last_error == "RuntimeError: boom"

        assert (await invoke("doctor", "--stale-after", "180")).exit_code == 1  # the orphan

    async def test_a_consistent_platform_exits_0(self, committed, cli_env):
        ana = await create_user(committed)
        await committed.mongo.profiles.insert_one({"userId": ana})
        result = await invoke("doctor", "--json")
        assert result.exit_code == 0, result.output
        assert doctor.ConsistencyReport.model_validate_json(result.stdout).ok

    async def test_unreachable_mongodb_exits_2(self, committed, cli_env, monkeypatch):
        monkeypatch.setenv("MONGODB_URL", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200")
        result = await invoke("doctor")
        assert result.exit_code == 2
        assert "MongoDB is unreachable" in result.output


class TestReferenceMap:
    async def test_the_references_option_prints_the_map(self):
        result = await invoke("doctor", "--references")
        assert result.exit_code == 0
        assert result.stdout == references.markdown()

    def test_the_docs_show_the_current_map(self):
        text = DOCS.read_text()
        start = text.index("<!-- references:start -->\n") + len("<!-- references:start -->\n")
        section = text[start:text.index("<!-- references:end -->")]
        assert section == references.markdown(), (
            "docs/outbox.md is out of date: paste `panamia doctor --references` between "
            "its references markers")


class TestConsistencyEndpoint:
    async def test_admins_get_the_report(self, client, resources):
        await resources.mongo.profiles.insert_one({"userId": GHOST})
        admin = await create_user(resources, email="admin@example.org")
        await sign_in_as(client, resources, admin)

        response = await client.get("/api/admin/consistency", params={"staleAfter": 5})

        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is False and body["staleEvents"]["staleAfterMinutes"] == 5
        assert finding(doctor.ConsistencyReport.model_validate(body), "profiles.userId").problem

    async def test_others_are_refused(self, client, resources):
        assert (await client.get("/api/admin/consistency")).status_code == 401
        await sign_in_as(client, resources, await create_user(resources))
        response = await client.get("/api/admin/consistency")
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
