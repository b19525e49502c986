"""The state machine as declared in `states.py`, against the database's own rules."""

import pytest

from panamia.errors import Conflict
from panamia.pets.bookings import service, states
from panamia.pets.models import Booking
from panamia.pets.bookings.states import ACTIVE, TRANSITIONS, Status, Transition, revives
from tests.pets.bookings.factories import create_booking
from tests.pets.factories import create_listing
from tests.profiles.factories import principal

REOPEN = Transition("reopen", frozenset({Status.CANCELLED}), Status.PENDING, "owner", None,
                    "updated_at")


def test_no_transition_makes_a_booking_hold_its_nights_again():
    """Cancelled, declined, expired and completed bookings free their nights for good."""
    assert [t.name for t in TRANSITIONS.values() if revives(t)] == []
    assert revives(REOPEN)


def test_the_exclusion_constraint_protects_exactly_the_active_statuses():
    constraint = next(c for c in Booking.__table__.constraints
                      if c.name == "ex_bookings_no_overlap")
    assert str(constraint.where) == "status IN ('pending', 'confirmed')"
    assert {s.value for s in ACTIVE} == {"pending", "confirmed"}


def test_every_transition_stamps_a_column_that_exists():
    columns = set(Booking.__table__.c.keys())
    assert all(t.stamp in columns for t in TRANSITIONS.values())


async def test_a_transition_back_to_active_would_meet_the_constraint(resources, monkeypatch):
    """None exists; were one added, overlapping nights would make it a 409, not a 500."""
    listing = await create_listing(resources)
    cancelled = await create_booking(resources, listing=listing, status="cancelled")
    await create_booking(resources, listing=listing)
    monkeypatch.setitem(states.TRANSITIONS, "reopen", REOPEN)

    with pytest.raises(Conflict, match="Another booking holds some of these nights"):
        await service.transition(resources, principal(cancelled.owner_id), cancelled.id,
                                 "reopen")
