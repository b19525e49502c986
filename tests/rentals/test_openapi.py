"""The rentals sidecar keeps the promises of its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid ones and invalid ones, sent signed in with a
CSRF header to the app served in-process on a database whose transactions commit; generated
ids are often swapped for ones that exist, and request bodies often name a known item with
plausible times, so that requests reach past the 404s and 422s. No answer may be a 5xx, nor
use a status or content type the document does not list, nor break the schema it documents.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.python.asgi import shutdown_lifespans

from panamia.ledger import check
from panamia.rentals.money import HELD_FUNDS
from panamia.rentals.sidecar import SIDECAR
from panamia.sidecar.registry import create_app
from tests import openapi
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.openapi import CHECKS, SignedIn, known_or_generated
from tests.rentals.factories import create_item, create_rental, fund

# Times at the calendar's edges, which would overflow or reach PostgreSQL as infinity.
EDGES = [{"startsAt": "0001-01-01T00:00", "endsAt": "0001-01-01T05:00"},
         {"startsAt": "9999-12-31T20:00", "endsAt": "9999-12-31T23:00"}]
WINDOW_EDGES = [{"from": "0001-01-01T00:00:00Z"}, {"to": "9999-12-31T23:59:59"}]


@dataclass
class World:
    item_ids: list[str]
    rental_ids: list[str]
    me: SignedIn


@pytest.fixture
async def world(committed_rentals) -> World:
    """The signed-in member lends one item and has asked to rent another."""
    db = committed_rentals
    me = await create_user(db)
    await fund(db, me)
    mine = await create_item(db, owner_id=me)
    theirs = await create_item(db, price_unit="day")
    rentals = [await create_rental(db, item=theirs, renter_id=me),
               await create_rental(db, item=mine)]
    cookies, headers = await signed_in_cookies(db, me)
    return World([mine.id, theirs.id], [r.id for r in rentals], SignedIn(cookies, headers))


def plausible(times: tuple[int, int] | dict | None) -> dict:
    if isinstance(times, dict) or times is None:
        return times or {}
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2 + times[0])
    return {"startsAt": start.isoformat(),
            "endsAt": (start + timedelta(hours=times[1])).isoformat()}


@pytest.fixture
def sidecar_schema(world, committed_rentals):
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(SIDECAR, committed_rentals.settings))
    openapi.swap_path_parameters(schema, {"item_id": world.item_ids,
                                          "rental_id": world.rental_ids})

    @schema.hook
    def flatmap_body(context, body):
        if not (isinstance(body, dict) and isinstance(body.get("itemId"), str)):
            return st.just(body)
        return st.fixed_dictionaries({
            "itemId": known_or_generated(body["itemId"], world.item_ids),
            "times": st.one_of(st.none(), st.tuples(st.integers(0, 2000), st.integers(1, 72)),
                               st.sampled_from(EDGES)),
        }).map(lambda drawn: {**body, "itemId": drawn["itemId"], **plausible(drawn["times"])})

    @schema.hook
    def flatmap_query(context, query):
        if not (isinstance(query, dict) and ("from" in query or "to" in query)):
            return st.just(query)
        return known_or_generated(query, [query | edge for edge in WINDOW_EDGES])

    yield schema
    shutdown_lifespans()


async def test_every_endpoint_keeps_its_promises(sidecar_schema, world, committed_rentals):
    failures = await asyncio.to_thread(openapi.broken_promises,
                                       openapi.operations(sidecar_schema), lambda _: world.me,
                                       checks=CHECKS)
    assert not failures, "\n\n".join(failures)
    # Whatever steps the requests took, each rental's escrow holds what it should.
    report = await check.check(committed_rentals, {"rentals": HELD_FUNDS})
    assert report.differences == []


def test_no_invalid_request_answers_5xx(sidecar_schema, world):
    failures = openapi.server_errors_on_invalid_requests(openapi.operations(sidecar_schema),
                                                         lambda _: world.me)
    assert not failures, "\n\n".join(failures)
