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
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from panamia.apps.pets import create_app
from tests.identity.factories import create_user
from tests.pets.bookings.factories import create_booking
from tests.pets.bookings.fixtures import (  # noqa: F401 - fixtures
    bookings_database_url,
    committed,
    committed_settings,
    signed_in_cookies,
)
from tests.pets.factories import create_listing

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Examples per operation: valid requests, then invalid ones.
BOOKINGS = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 20}
OTHERS = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 8}


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


def known_or_generated(generated: str, known: list[str]):
    return st.sampled_from([*known, generated])


def plausible(stay: tuple[int, int] | None) -> dict:
    """Dates from tomorrow on and a dog, which every listing here takes; nothing if None."""
    if stay is None:
        return {}
    start = date.today() + timedelta(days=1 + stay[0])
    end = start + timedelta(days=stay[1])
    return {"startDate": start.isoformat(), "endDate": end.isoformat(),
            "pets": [{"name": "Rex", "species": "dog"}]}


@pytest.fixture
def sidecar_schema(world, committed_settings):
    """The sidecar's OpenAPI, served in-process, with ids swapped for known ones."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(committed_settings))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        strategies = {name: st.just(value) for name, value in path_parameters.items()}
        for name, known in (("listing_id", world.listing_ids),
                            ("booking_id", world.booking_ids)):
            if isinstance(path_parameters.get(name), str):
                strategies[name] = known_or_generated(path_parameters[name], known)
        return st.fixed_dictionaries(strategies)

    @schema.hook
    def flatmap_body(context, body):
        """A booking request for a known listing, often for dates it could take."""
        if not (isinstance(body, dict) and isinstance(body.get("listingId"), str)):
            return st.just(body)
        return st.fixed_dictionaries({
            "listingId": known_or_generated(body["listingId"], world.listing_ids),
            "stay": st.one_of(st.none(), st.tuples(st.integers(0, 60), st.integers(1, 10))),
        }).map(lambda drawn: {**body, "listingId": drawn["listingId"],
                              **plausible(drawn["stay"])})

    yield schema
    shutdown_lifespans()


def broken_promises(schema, world: World, *, bookings: bool, checks) -> list[str]:
    examples_per_mode = BOOKINGS if bookings else OTHERS
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.path.startswith("/bookings") and "review" not in operation.path) \
                != bookings:
            continue
        for mode, examples in examples_per_mode.items():
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                case.call_and_validate(headers=world.headers, cookies=world.cookies,
                                       checks=checks)

            try:
                check()
            except Unsatisfiable:
                pass  # nothing in the request can be made invalid (GET /health)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report them all
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


def test_the_booking_endpoints_keep_their_promises(sidecar_schema, world):
    failures = broken_promises(sidecar_schema, world, bookings=True, checks=CHECKS)
    assert not failures, "\n\n".join(failures)


def test_the_listing_and_review_endpoints_keep_their_promises(sidecar_schema, world):
    failures = broken_promises(sidecar_schema, world, bookings=False, checks=CHECKS)
    assert not failures, "\n\n".join(failures)
