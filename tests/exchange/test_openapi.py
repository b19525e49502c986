"""The exchange keeps the promises of its own OpenAPI document (schemathesis): generated
requests, valid and invalid, signed in with a CSRF header and money to spend, to the app
served in-process on a database of its own. Generated ids are often swapped for ones that
exist. No answer may be a 5xx, use a status or content type the document does not list, or
break the schema it documents."""

from dataclasses import dataclass

import pytest
import schemathesis
from schemathesis.python.asgi import shutdown_lifespans

from panamia.exchange import listings as listing_service
from panamia.exchange import offers, transactions
from panamia.exchange.schemas import ListingCreate, OfferCreate
from panamia.exchange.sidecar import SIDECAR
from panamia.identity.dependencies import Principal
from panamia.sidecar.registry import create_app
from tests import openapi
from tests.exchange.factories import auction, deposit, free, sale, swap
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.openapi import CHECKS, SignedIn
from tests.profiles.factories import principal


@dataclass
class World:
    ids: dict[str, list[str]]
    me: SignedIn


async def made(resources, user: Principal, body: dict) -> str:
    answer = await listing_service.create_listing(
        resources, user, ListingCreate.model_validate(body), None)
    return answer.body["id"]


@pytest.fixture
async def world(own_database) -> World:
    """I sell one of each kind; someone else sells one of each too, and I have bought one."""
    resources = own_database
    me, them = await create_user(resources), await create_user(resources)
    for person in (me, them):
        await deposit(resources, person, "100000.00")
    mine, theirs = principal(me), principal(them)
    listings = [await made(resources, who, body(**terms)) for who in (mine, theirs)
                for body, terms in ((sale, {"openToOffers": True}), (auction, {}), (swap, {}),
                                    (free, {}))]
    bought = await made(resources, theirs, sale())
    deal = await transactions.buy(resources, mine, bought, None)
    offer = await offers.make_offer(resources, theirs, listings[0], OfferCreate(amount=5), None)
    cookies, headers = await signed_in_cookies(resources, me)
    return World({"listing_id": [*listings, bought], "offer_id": [offer.body["id"]],
                  "transaction_id": [deal.body["id"]]}, SignedIn(cookies, headers))


@pytest.fixture
def exchange_schema(world, own_database):
    schema = schemathesis.openapi.from_asgi("/openapi.json",
                                            create_app(SIDECAR, own_database.settings))
    openapi.swap_path_parameters(schema, world.ids)
    yield schema
    shutdown_lifespans()


def test_every_endpoint_keeps_its_promises(exchange_schema, world):
    failures = openapi.broken_promises(openapi.operations(exchange_schema),
                                       lambda _: world.me, checks=CHECKS)
    assert not failures, "\n\n".join(failures)


def test_no_invalid_request_answers_5xx(exchange_schema, world):
    failures = openapi.server_errors_on_invalid_requests(
        openapi.operations(exchange_schema), lambda _: world.me)
    assert not failures, "\n\n".join(failures)
