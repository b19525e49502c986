"""Request ids: taken from X-Request-ID when safe, made otherwise, echoed, and carried from the
request into the outbox event it writes and the relay's line when it delivers it."""

import asyncio
import io
import json
import logging
import re

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import select

from panamia import requestids
from panamia.logs import JsonLines, RequestId
from panamia.metrics import RequestMetrics
from panamia.outbox import relay, service
from panamia.outbox.models import OutboxEvent
from tests.identity.factories import create_user
from tests.pets.bookings.factories import body
from tests.pets.factories import act_as, create_listing

MADE = re.compile(r"[0-9a-f]{32}")


class TestHeader:
    @pytest.mark.parametrize("given", ["req-1", "0f9c2a61d3e84b5f9a7c6e5d4b3a2910",
                                       "a.b:c_d-e", "x" * 64])
    async def test_a_safe_id_is_kept_and_echoed(self, client, given):
        answer = await client.get("/health", headers={"X-Request-ID": given})
        assert answer.headers["x-request-id"] == given

    @pytest.mark.parametrize("given", ["x" * 65, "two words", "a;b", '"quoted"', "", b"\xe9"])
    async def test_an_unsafe_id_is_replaced_by_a_new_one(self, client, given):
        answer = await client.get("/health", headers={"X-Request-ID": given})
        assert MADE.fullmatch(answer.headers["x-request-id"])

    async def test_without_one_each_request_gets_its_own(self, client):
        ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(3)}
        assert len(ids) == 3 and all(MADE.fullmatch(i) for i in ids)

    async def test_refusals_carry_it_too(self, client):
        for answer in (await client.get("/no-such-page", headers={"X-Request-ID": "r-404"}),
                       await client.delete("/api/account", headers={"X-Request-ID": "r-403"})):
            assert answer.status_code in (403, 404)
            assert answer.headers["x-request-id"] == answer.request.headers["x-request-id"]


@given(st.binary(max_size=80) | st.text(max_size=80).map(str.encode))
def test_whatever_a_client_sends_the_id_is_short_and_plain(header):
    request_id = requestids.accepted(header)
    assert requestids.SAFE_ID.fullmatch(request_id)
    assert request_id == header.decode("latin-1") or MADE.fullmatch(request_id)


class TestIntoTheOutbox:
    async def test_the_event_a_request_writes_carries_its_id_to_the_relay(
        self, pets, client, resources, connection, caplog
    ):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))

        booked = await pets.post("/bookings", json=body(listing.id),
                                 headers=headers | {"X-Request-ID": "book-42"})
        assert booked.status_code == 201, booked.text
        assert booked.headers["x-request-id"] == "book-42"
        event = (await connection.execute(select(OutboxEvent).where(
            OutboxEvent.topic == service.NOTIFICATION_CREATE))).one()
        assert event.request_id == "book-42"

        with caplog.at_level(logging.INFO, logger="panamia.outbox.relay"):
            assert (await relay.relay_once(resources)).delivered == 1
        [line] = [r for r in caplog.records if "delivered" in r.getMessage()]
        assert event.id in line.getMessage() and line.request_id == "book-42"

    async def test_an_event_written_outside_a_request_has_none(self, resources, connection):
        async with resources.db.begin() as db:
            event_id = await service.enqueue(db, "test.topic", {})
        row = (await connection.execute(
            select(OutboxEvent.request_id).where(OutboxEvent.id == event_id))).one()
        assert row.request_id is None and requestids.current() is None


class TestJsonLines:
    def test_a_line_is_one_object_with_the_request_id_and_no_token(self):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonLines())
        handler.addFilter(RequestId())
        logger = logging.getLogger("panamia.test.json")
        logger.addHandler(handler)
        try:
            logger.warning("opened %s", "/api/auth/callback/email?token=s3cret&email=a%40b.c",
                           extra={"request_id": "req-7"})
            logger.warning("no request")
        finally:
            logger.removeHandler(handler)

        first, second = map(json.loads, stream.getvalue().splitlines())
        assert first["request_id"] == "req-7" and first["level"] == "WARNING"
        assert first["logger"] == "panamia.test.json"
        assert "s3cret" not in stream.getvalue()
        assert "token=[redacted]" in first["message"]
        assert second["request_id"] is None


class TestAnUnhandledError:
    async def test_the_traceback_line_names_the_request_and_it_counts_as_a_500(self):
        app = FastAPI()

        @app.get("/broken/{part}")
        async def broken(part: str):
            raise RuntimeError("a bug")

        app.add_middleware(requestids.RequestIds)
        app.add_middleware(RequestMetrics)
        errors = []
        logger = logging.getLogger("uvicorn.error")
        handler = logging.Handler()
        handler.emit = errors.append
        handler.addFilter(RequestId())
        logger.addHandler(handler)
        status = {"route": "/broken/{part}", "method": "GET", "status": "500"}
        before = REGISTRY.get_sample_value("panamia_http_requests_total", status) or 0

        async def run_as_uvicorn_does():
            """Its request task logs the exception the app raised, as uvicorn does."""
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                try:
                    await client.get("/broken/7", headers={"X-Request-ID": "bug-1"})
                except RuntimeError:
                    logger.exception("Exception in ASGI application")

        try:
            await asyncio.create_task(run_as_uvicorn_does())
        finally:
            logger.removeHandler(handler)

        assert [record.request_id for record in errors] == ["bug-1"]
        assert REGISTRY.get_sample_value("panamia_http_requests_total", status) == before + 1
        assert requestids.current() is None  # the request's task ended with it
