"""/metrics of a service, scraped after real requests through its app: who may read it, and
each series with its labels and values. The series are the process's own, shared by every
test in it, so each test compares a scrape before with one after."""

import asyncio
import dataclasses
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import ExcludeConstraint

from panamia import metrics
from panamia.apps.main import create_app as create_main
from panamia.apps.pets import create_app as create_pets
from panamia.outbox import relay
from panamia.outbox.models import OutboxEvent
from panamia.resources import POOL_SIZE
from panamia.sidecar import registry, reservations
from tests.fixtures.http import asgi_client
from tests.identity.factories import create_user, request_link, unique_email
from tests.observability.series import METRICS_TOKEN, scrape, value
from tests.pets.bookings.factories import FIRST_NIGHT, body, create_booking
from tests.pets.factories import act_as, create_listing

REQUESTS = "panamia_http_requests_total"


@pytest.fixture
def watched_settings(settings):
    return settings.model_copy(update={"metrics_token": METRICS_TOKEN})


@pytest.fixture
async def watched(watched_settings, resources):
    """The main app with METRICS_TOKEN set, on the test's databases."""
    async with asgi_client(create_main(watched_settings, resources)) as client:
        yield client


class TestWhoMayRead:
    @pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Bearer {METRICS_TOKEN}x",
                                               METRICS_TOKEN, f"Basic {METRICS_TOKEN}"])
    async def test_without_the_token_it_is_a_404_like_any_unknown_path(
        self, watched, authorization
    ):
        headers = {"Authorization": authorization} if authorization else {}
        refused = await watched.get("/metrics", headers=headers)
        unknown = await watched.get("/no-such-page", headers=headers)

        assert refused.status_code == unknown.status_code == 404
        assert refused.json() == unknown.json()
        assert "panamia_" not in refused.text

    @pytest.mark.parametrize("authorization", ["Bearer ", "Bearer None", None])
    async def test_without_metrics_token_set_nothing_opens_it(self, client, authorization):
        headers = {"Authorization": authorization} if authorization else {}
        assert (await client.get("/metrics", headers=headers)).status_code == 404

    async def test_with_the_token_it_answers_the_text_format(self, watched):
        exposition = await scrape(watched)
        assert "# TYPE panamia_http_requests_total counter" in exposition
        assert "# TYPE panamia_http_request_duration_seconds histogram" in exposition

    def test_it_is_not_in_the_api_document(self, watched_settings, resources):
        assert "/metrics" not in create_main(watched_settings, resources).openapi()["paths"]


class TestRequests:
    async def test_counted_by_route_template_method_and_status_never_by_raw_path(
        self, watched
    ):
        names = [f"nobody-{uuid.uuid4().hex[:8]}" for _ in range(3)]
        route = {"route": "/api/profiles/{screenname}", "method": "GET"}
        before = await scrape(watched)

        for name in names:
            assert (await watched.get(f"/api/profiles/{name}")).status_code == 404
        assert (await watched.get("/health")).status_code == 200
        after = await scrape(watched)

        assert value(after, REQUESTS, **route, status="404") \
            - value(before, REQUESTS, **route, status="404") == 3
        assert value(after, REQUESTS, route="/health", method="GET", status="200") \
            - value(before, REQUESTS, route="/health", method="GET", status="200") == 1
        assert value(after, "panamia_http_request_duration_seconds_count", **route) \
            - value(before, "panamia_http_request_duration_seconds_count", **route) == 3
        assert not any(name in after for name in names)

    async def test_paths_no_route_matches_share_one_label(self, watched):
        paths = [f"/nothing/here/{uuid.uuid4().hex}" for _ in range(2)]
        before = await scrape(watched)

        for path in paths:
            assert (await watched.get(path)).status_code == 404
        after = await scrape(watched)

        unmatched = {"route": metrics.UNMATCHED, "method": "GET", "status": "404"}
        assert value(after, REQUESTS, **unmatched) - value(before, REQUESTS, **unmatched) == 2
        assert not any(path in after for path in paths)

    async def test_latency_lands_in_the_buckets_of_its_route(self, watched):
        before = await scrape(watched)
        await watched.get("/health")
        after = await scrape(watched)

        labels = {"route": "/health", "method": "GET"}
        bucket = "panamia_http_request_duration_seconds_bucket"
        assert value(after, bucket, **labels, le="+Inf") \
            - value(before, bucket, **labels, le="+Inf") == 1
        took = value(after, "panamia_http_request_duration_seconds_sum", **labels) \
            - value(before, "panamia_http_request_duration_seconds_sum", **labels)
        assert 0 < took < 5


class TestOutbox:
    async def test_backlog_and_the_age_of_its_oldest_event_are_read_at_each_scrape(
        self, watched, resources, connection
    ):
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        async with resources.db.begin() as db:
            await db.execute(insert(OutboxEvent).values(
                id=uuid.uuid4().hex, topic="test.old", payload={}, created_at=hour_ago,
                attempts=2,
            ))
            for _ in range(2):
                await db.execute(insert(OutboxEvent).values(
                    id=uuid.uuid4().hex, topic="test.new", payload={}))
        undelivered = (await connection.execute(
            select(func.count()).where(OutboxEvent.delivered_at.is_(None)))).scalar_one()

        exposition = await scrape(watched)

        assert value(exposition, "panamia_outbox_undelivered") == undelivered >= 3
        assert value(exposition, "panamia_outbox_failing") >= 1
        age = value(exposition, "panamia_outbox_oldest_undelivered_age_seconds")
        assert 3600 <= age < 3600 + 60

        await connection.execute(update(OutboxEvent).values(delivered_at=func.now()))
        emptied = await scrape(watched)
        assert value(emptied, "panamia_outbox_undelivered") == 0
        assert value(emptied, "panamia_outbox_oldest_undelivered_age_seconds") == 0

    async def test_failed_and_delivered_events_are_counted_by_topic(
        self, watched, resources
    ):
        topic = f"test.unknown.{uuid.uuid4().hex[:6]}"
        async with resources.db.begin() as db:
            await db.execute(insert(OutboxEvent).values(
                id=uuid.uuid4().hex, topic=topic, payload={}))
        before = await scrape(watched)

        result = await relay.relay_once(resources)
        after = await scrape(watched)

        assert result.failed >= 1
        failures = "panamia_outbox_relay_failures_total"
        assert value(after, failures, topic=topic) - value(before, failures, topic=topic) == 1


class TestBookingConflicts:
    async def test_a_409_for_taken_nights_is_counted_by_sidecar_and_constraint(
        self, watched_settings, client, resources
    ):
        listing = await create_listing(resources)
        await create_booking(resources, listing=listing, start=FIRST_NIGHT, nights=3)
        owner = await create_user(resources)
        async with asgi_client(create_pets(watched_settings, resources)) as pets:
            headers = await act_as(pets, client, resources, owner)
            labels = {"sidecar": "pets", "constraint": "ex_bookings_no_overlap"}
            before = await scrape(pets)

            taken = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 2),
                                    headers=headers)
            free = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT
                                                          + timedelta(days=3), 2),
                                   headers=headers)
            after = await scrape(pets)

        assert (taken.status_code, free.status_code) == (409, 201)
        conflicts = "panamia_booking_conflicts_total"
        assert value(after, conflicts, **labels) - value(before, conflicts, **labels) == 1
        assert value(after, REQUESTS, route="/bookings", method="POST", status="409") \
            - value(before, REQUESTS, route="/bookings", method="POST", status="409") == 1


    def test_every_sidecar_s_reservation_constraints_are_labelled_with_its_name(self):
        found = {
            (sidecar.name, constraint.name)
            for sidecar in registry.discover() for module in sidecar.models
            for member in vars(module).values() if hasattr(member, "__table__")
            for constraint in member.__table__.constraints
            if isinstance(constraint, ExcludeConstraint)
        }
        assert ("pets", "ex_bookings_no_overlap") in found
        for sidecar, constraint in found:
            assert reservations.sidecar_guarded_by(constraint) == sidecar


class TestSignInMails:
    async def test_links_sent_and_refused_by_each_limit(self, watched, resources):
        strict = resources.settings.model_copy(update={
            "signin_limit_per_address": 1, "signin_limit_per_client": 3,
        })
        app = create_main(strict, dataclasses.replace(resources, settings=strict))
        before = await scrape(watched)
        async with asgi_client(app) as client:
            email = unique_email()
            answers = [(await request_link(client, email)).status_code for _ in range(2)]
            answers += [(await request_link(client, unique_email())).status_code
                        for _ in range(3)]
        after = await scrape(watched)

        assert answers == [200, 429, 200, 200, 429]
        sent, refused = "panamia_signin_mails_sent_total", "panamia_signin_mails_refused_total"
        assert value(after, sent) - value(before, sent) == 3
        assert value(after, refused, limit="address") \
            - value(before, refused, limit="address") == 1
        assert value(after, refused, limit="client") \
            - value(before, refused, limit="client") == 1


class TestDatabasePool:
    async def test_connections_in_use_and_tasks_waiting_for_one(self, committed, watched):
        pool = committed.engine.pool
        release = asyncio.Event()

        async def hold_a_connection():
            async with committed.engine.connect():
                await release.wait()

        async with AsyncExitStack() as held:
            for _ in range(POOL_SIZE):
                await held.enter_async_context(committed.engine.connect())
            waiter = asyncio.create_task(hold_a_connection())
            for _ in range(100):
                await asyncio.sleep(0.01)
                metrics.sample_pool(pool)
                if value(await scrape(watched), "panamia_db_pool_waiting") == 1:
                    break
            full = await scrape(watched)
        release.set()
        await waiter
        metrics.sample_pool(pool)
        idle = await scrape(watched)

        assert value(full, "panamia_db_pool_in_use") == POOL_SIZE
        assert value(full, "panamia_db_pool_waiting") == 1
        assert value(idle, "panamia_db_pool_in_use") == 0
        assert value(idle, "panamia_db_pool_waiting") == 0

    async def test_each_service_samples_its_own_pool_while_it_runs(self, committed):
        async with committed.engine.connect():
            watcher = asyncio.create_task(metrics.watch_pool(committed))
            await asyncio.sleep(0.05)
            watcher.cancel()
        assert REGISTRY.get_sample_value("panamia_db_pool_in_use") == 1
