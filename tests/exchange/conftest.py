"""Fixtures of the exchange tests: its app on the test's transaction, and members."""

import pytest

from panamia.exchange.sidecar import SIDECAR
from panamia.sidecar.registry import create_app
from tests.exchange.factories import member


@pytest.fixture
def exchange_app(settings, resources):
    return create_app(SIDECAR, settings, resources)


@pytest.fixture
def members(exchange_app, resources):
    """`async with members() as ana:` a new signed-in member with $1,000."""
    return lambda **kwargs: member(exchange_app, resources, **kwargs)
