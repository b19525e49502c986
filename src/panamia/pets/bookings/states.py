"""A booking's statuses and the transitions between them, declared once.

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

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from panamia.pets.bookings import models


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    EXPIRED = "expired"


ACTIVE = frozenset({Status.PENDING, Status.CONFIRMED})
PENDING_FOR = timedelta(hours=48)

Actor = Literal["sitter", "owner", "party", "system"]
# When, in the listing's time zone, a transition may happen.
Timing = Literal["before_start", "from_end", "unexpired", None]


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[Status]
    target: Status
    actor: Actor
    timing: Timing
    stamp: str  # the `*_at` column set to the time of the transition


TRANSITIONS = {
    t.name: t
    for t in (
        Transition("confirm", frozenset({Status.PENDING}), Status.CONFIRMED, "sitter",
                   "unexpired", "confirmed_at"),
        Transition("decline", frozenset({Status.PENDING}), Status.DECLINED, "sitter",
                   None, "declined_at"),
        Transition("cancel", frozenset({Status.PENDING, Status.CONFIRMED}), Status.CANCELLED,
                   "party", "before_start", "cancelled_at"),
        Transition("complete", frozenset({Status.CONFIRMED}), Status.COMPLETED, "sitter",
                   "from_end", "completed_at"),
        Transition("expire", frozenset({Status.PENDING}), Status.EXPIRED, "system",
                   None, "expired_at"),
    )
}


def revives(transition: Transition) -> bool:
    """Whether it would make a booking hold its nights again."""
    return transition.target in ACTIVE and not transition.sources <= ACTIVE


# The database declares the same sets; drift between the two is a bug found at import.
assert {s.value for s in Status} == set(models.STATUSES)
assert {s.value for s in ACTIVE} == set(models.ACTIVE_STATUSES)
