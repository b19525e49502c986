"""The ledger's operations keep the promises of the main app's OpenAPI document
(schemathesis): generated requests, valid and invalid, to the app served in-process on the
ledger's own database, recording money as an administrator for members who exist and have
some, reading one's own money as a member. No answer may be a 5xx, use a status or content
type the document does not list, or break the schema it documents."""

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.python.asgi import shutdown_lifespans

from panamia.apps.main import create_app
from tests import openapi
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user, unique_email
from tests.ledger.factories import fund
from tests.openapi import SignedIn, known_or_generated


@pytest.fixture
async def world(ledger_resources) -> dict:
    """A member with money, and an administrator."""
    email = unique_email()
    member = await create_user(ledger_resources, email=email)
    await fund(ledger_resources, member, "100000")
    admin = await create_user(ledger_resources, role="admin")
    return {"emails": [email], "member": SignedIn(*await signed_in_cookies(ledger_resources,
                                                                            member)),
            "admin": SignedIn(*await signed_in_cookies(ledger_resources, admin))}


@pytest.fixture
def ledger_schema(world, committed_settings):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(committed_settings))

    @schema.hook
    def flatmap_body(context, body):
        """The member's address, and amounts and currencies that can be recorded."""
        if not isinstance(body, dict):
            return st.just(body)
        strategies = {name: st.just(value) for name, value in body.items()}
        if isinstance(body.get("email"), str):
            strategies["email"] = known_or_generated(body["email"], world["emails"])
        if "amount" in body:
            strategies["amount"] = known_or_generated(body["amount"], ["12.50", "0.01", "7"])
        if "currency" in body:
            strategies["currency"] = known_or_generated(body["currency"], ["USD"])
        return st.fixed_dictionaries(strategies)

    yield schema
    shutdown_lifespans()


def ledger_operations(schema) -> list:
    return [op for op in openapi.operations(schema) if op.path.startswith("/api/ledger/")]


def test_the_ledger_keeps_its_promises(ledger_schema, world):
    operations = ledger_operations(ledger_schema)
    assert {op.path for op in operations} == {
        "/api/ledger/deposits", "/api/ledger/payouts", "/api/ledger/me"}

    def as_whom(operation) -> SignedIn:
        return world["member"] if operation.method.upper() == "GET" else world["admin"]

    failures = openapi.broken_promises(operations, as_whom)
    assert not failures, "\n\n".join(failures)
    failures = openapi.server_errors_on_invalid_requests(operations, as_whom)
    assert not failures, "\n\n".join(failures)
