"""A booking's statuses and the transitions between them, declared once (`BOOKINGS`).

```
pending ─confirm(sitter)→ confirmed ─complete(sitter, from check-out day)→ completed
pending ─decline(sitter)→ declined
pending|confirmed ─cancel(owner|sitter, before the start date)→ cancelled
pending ─expire(system, 48 h after the request)→ expired
```

Only `pending` and `confirmed` hold nights (the exclusion constraint's `WHERE`). No transition
leads from a status that frees the nights back to one that holds them: a transition that did
would have to meet the constraint again (the service maps 23P01 to 409 for every transition,
so one added later is covered), and `test_states.py` fails when one is added.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Date, DateTime, cast, func, literal, select

from panamia.pets import models
from panamia.pets.listings.models import Listing
from panamia.sidecar.states import ANY_PARTY, SYSTEM, Guard, StateMachine, Transition


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    EXPIRED = "expired"


ACTIVE = frozenset({Status.PENDING, Status.CONFIRMED})
PENDING_FOR = timedelta(hours=48)
bookings, listings = models.Booking.__table__, Listing.__table__


def _local_today(now: datetime):
    """Today in the listing's time zone, where a booking's dates are."""
    zone = select(listings.c.timezone).where(listings.c.id == bookings.c.listing_id)
    return cast(func.timezone(zone.scalar_subquery(), literal(now, DateTime(timezone=True))), Date)


GUARDS = {
    "before_start": Guard(
        lambda now: bookings.c.start_date > _local_today(now),
        lambda b: f" and its stay began on {b.start_date}; it can be cancelled only before "
                  "its start date.",
        when="before its start date"),
    "from_end": Guard(
        lambda now: bookings.c.end_date <= _local_today(now),
        lambda b: f" and its stay ends on {b.end_date}; it can be completed from that day on.",
        when="from its check-out day on"),
    "unexpired": Guard(
        lambda now: bookings.c.created_at > now - PENDING_FOR,
        lambda b: " but went unanswered for 48 hours and has expired; the owner can request "
                  "it again.",
        when="within 48 hours of the request"),
}

TRANSITIONS = {
    t.name: t
    for t in (
        Transition("confirm", frozenset({Status.PENDING}), Status.CONFIRMED, "sitter",
                   "unexpired", "confirmed_at", notice="Accept", headline="Confirmed"),
        Transition("decline", frozenset({Status.PENDING}), Status.DECLINED, "sitter",
                   None, "declined_at", notice="Reject", headline="Declined"),
        Transition("cancel", frozenset({Status.PENDING, Status.CONFIRMED}), Status.CANCELLED,
                   ANY_PARTY, "before_start", "cancelled_at", by="cancelled_by"),
        Transition("complete", frozenset({Status.CONFIRMED}), Status.COMPLETED, "sitter",
                   "from_end", "completed_at"),
        Transition("expire", frozenset({Status.PENDING}), Status.EXPIRED, SYSTEM,
                   None, "expired_at", headline="Expired unanswered"),
    )
}
BOOKINGS = StateMachine(bookings, "booking", TRANSITIONS,
                        parties={"owner": "owner_id", "sitter": "sitter_id"}, guards=GUARDS)


def revives(transition: Transition) -> bool:
    """Whether it would make a booking hold its nights again."""
    return transition.target in ACTIVE and not transition.sources <= ACTIVE


# The database declares the same sets; drift between the two is a bug found at import.
assert {s.value for s in Status} == set(models.STATUSES)
assert {s.value for s in ACTIVE} == set(models.ACTIVE_STATUSES)
