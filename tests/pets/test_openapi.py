"""The pets sidecar keeps the promises of its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid ones and invalid ones, sent signed in with a
CSRF header to an app served in-process (its own lifespan and connections, on a database
whose transactions commit). Generated ids are often swapped for ones that exist, so that
requests reach past the 404s. No answer may be a 5xx; a booking endpoint's answer may also
not use a status or content type the document does not list, nor break the schema it
documents (the other endpoints: see the second test).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from panamia.apps.pets import create_app
from tests import openapi
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.openapi import CHECKS, SignedIn, known_or_generated
from tests.pets.bookings.factories import create_booking
from tests.pets.factories import create_listing

# Examples per operation: valid requests, then invalid ones.
BOOKINGS = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 20}
OTHERS = openapi.EXAMPLES


@dataclass
class World:
    listing_ids: list[str]
    booking_ids: list[str]
    cookies: dict[str, str]
    headers: dict[str, str]


@pytest.fixture
async def world(committed) -> World:
    """The signed-in user sits for one listing and has booked another."""
    me = await create_user(committed, screenname="openapi-me")
    mine = await create_listing(committed, sitter_id=me)
    theirs = await create_listing(committed)
    bookings = [await create_booking(committed, listing=theirs, owner_id=me),
                await create_booking(committed, listing=mine)]
    cookies, headers = await signed_in_cookies(committed, me)
    return World([mine.id, theirs.id], [b.id for b in bookings], cookies, headers)


# Dates at the calendar's edges, which asyncpg would send as -infinity and infinity.
CALENDAR_EDGES = [{"startDate": "0001-01-01", "endDate": "0001-01-04"},
                  {"startDate": "9999-12-28", "endDate": "9999-12-31"}]
WINDOW_EDGES = [{"from": "0001-01-01", "to": "0001-01-04"},
                {"from": "9999-12-28", "to": "9999-12-31"}]


def plausible(stay: tuple[int, int] | dict | None) -> dict:
    """Dates from tomorrow on (or at the calendar's edges) and a dog, which every listing
    here takes; nothing if None."""
    if stay is None:
        return {}
    dog = {"pets": [{"name": "Rex", "species": "dog"}]}
    if isinstance(stay, dict):
        return stay | dog
    start = date.today() + timedelta(days=1 + stay[0])
    end = start + timedelta(days=stay[1])
    return {"startDate": start.isoformat(), "endDate": end.isoformat()} | dog


@pytest.fixture
def sidecar_schema(world, committed_settings):
    """The sidecar's OpenAPI, served in-process, with ids swapped for known ones."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(committed_settings))

    openapi.swap_path_parameters(
        schema, {"listing_id": world.listing_ids, "booking_id": world.booking_ids})

    @schema.hook
    def flatmap_body(context, body):
        """A booking request for a known listing, often for dates it could take; a
        blackout's dates now and then at the calendar's edges."""
        if not isinstance(body, dict):
            return st.just(body)
        if isinstance(body.get("listingId"), str):
            return st.fixed_dictionaries({
                "listingId": known_or_generated(body["listingId"], world.listing_ids),
                "stay": st.one_of(st.none(), st.tuples(st.integers(0, 60), st.integers(1, 10)),
                                  st.sampled_from(CALENDAR_EDGES)),
            }).map(lambda drawn: {**body, "listingId": drawn["listingId"],
                                  **plausible(drawn["stay"])})
        if isinstance(body.get("startDate"), str):
            return known_or_generated(body, [body | edge for edge in CALENDAR_EDGES])
        return st.just(body)

    @schema.hook
    def flatmap_query(context, query):
        """Search and availability windows now and then at the calendar's edges."""
        if not (isinstance(query, dict) and isinstance(query.get("from"), str)):
            return st.just(query)
        return known_or_generated(query, [query | edge for edge in WINDOW_EDGES])

    yield schema
    shutdown_lifespans()


def broken_promises(schema, world: World, *, bookings: bool, checks) -> list[str]:
    chosen = [op for op in openapi.operations(schema)
              if (op.path.startswith("/bookings") and "review" not in op.path) == bookings]
    signed_in = SignedIn(world.cookies, world.headers)
    return openapi.broken_promises(
        chosen, lambda _: signed_in, examples_per_mode=BOOKINGS if bookings else OTHERS,
        checks=checks,
    )


def test_the_booking_endpoints_keep_their_promises(sidecar_schema, world):
    failures = broken_promises(sidecar_schema, world, bookings=True, checks=CHECKS)
    assert not failures, "\n\n".join(failures)


def test_the_listing_and_review_endpoints_keep_their_promises(sidecar_schema, world):
    failures = broken_promises(sidecar_schema, world, bookings=False, checks=CHECKS)
    assert not failures, "\n\n".join(failures)


def test_no_invalid_request_answers_5xx(sidecar_schema, world):
    signed_in = SignedIn(world.cookies, world.headers)
    failures = openapi.server_errors_on_invalid_requests(
        openapi.operations(sidecar_schema), lambda _: signed_in)
    assert not failures, "\n\n".join(failures)
