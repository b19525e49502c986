"""A rental's statuses and the transitions between them, declared once (`RENTALS`).

```
requested ─confirm(owner; fee and deposit held)→ confirmed ─pick_up(owner)→ picked_up
requested ─decline(owner)→ declined
requested ─expire(system, 48 h unanswered or at its start)→ expired
requested|confirmed ─cancel(owner|renter, before the start; money back)→ cancelled
picked_up ─return(owner; deposit back, fee paid)→ returned
picked_up ─claim(owner; fee paid, deposit kept)→ claimed ─accept_claim(renter)→ settled
claimed ─dispute(renter)→ disputed ─settle(admin)→ settled
```

Only requested, confirmed and picked_up hold the item's time (the exclusion constraint's
`WHERE`); no transition leads back into them from a status that frees it.
"""

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func

from panamia.rentals import models
from panamia.sidecar.states import ADMIN, ANY_PARTY, SYSTEM, Guard, StateMachine, Transition


class Status(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PICKED_UP = "picked_up"
    RETURNED = "returned"
    CLAIMED = "claimed"
    DISPUTED = "disputed"
    SETTLED = "settled"


ACTIVE = frozenset({Status.REQUESTED, Status.CONFIRMED, Status.PICKED_UP})
# Statuses whose escrow holds money, and what it holds (see `money.held_funds`).
HOLDING = frozenset({Status.CONFIRMED, Status.PICKED_UP, Status.CLAIMED, Status.DISPUTED})
ANSWER_WITHIN = timedelta(hours=48)
rentals = models.Rental.__table__


def answer_by(created_at, starts_at):
    """A request must be answered within 48 hours, and before its start."""
    return func.least(created_at + ANSWER_WITHIN, starts_at)


GUARDS = {
    "unanswered": Guard(
        lambda now: answer_by(rentals.c.created_at, rentals.c.starts_at) > now,
        lambda r: " but was not answered within 48 hours or before its start, so it has "
                  "expired; the renter can ask again.",
        when="within 48 hours of the request and before its start"),
    "before_start": Guard(
        lambda now: rentals.c.starts_at > now,
        lambda r: f" and began at {r.starts_at:%Y-%m-%d %H:%M} UTC; it can be cancelled only "
                  "before its start.",
        when="before its start"),
}

TRANSITIONS = {
    t.name: t
    for t in (
        Transition("confirm", frozenset({Status.REQUESTED}), Status.CONFIRMED, "owner",
                   "unanswered", "confirmed_at", notice="Accept", headline="Confirmed"),
        Transition("decline", frozenset({Status.REQUESTED}), Status.DECLINED, "owner",
                   None, "declined_at", notice="Reject", headline="Declined"),
        Transition("cancel", frozenset({Status.REQUESTED, Status.CONFIRMED}), Status.CANCELLED,
                   ANY_PARTY, "before_start", "cancelled_at", by="cancelled_by"),
        Transition("expire", frozenset({Status.REQUESTED}), Status.EXPIRED, SYSTEM,
                   None, "expired_at", headline="Expired unanswered"),
        Transition("pick_up", frozenset({Status.CONFIRMED}), Status.PICKED_UP, "owner",
                   None, "picked_up_at", headline="Picked up"),
        Transition("return", frozenset({Status.PICKED_UP}), Status.RETURNED, "owner",
                   None, "returned_at", headline="Returned"),
        Transition("claim", frozenset({Status.PICKED_UP}), Status.CLAIMED, "owner",
                   None, "claimed_at", headline="Returned with a damage claim"),
        Transition("accept_claim", frozenset({Status.CLAIMED}), Status.SETTLED, "renter",
                   None, "settled_at", by="settled_by", headline="Claim accepted"),
        Transition("dispute", frozenset({Status.CLAIMED}), Status.DISPUTED, "renter",
                   None, "disputed_at", headline="Claim disputed"),
        Transition("settle", frozenset({Status.DISPUTED}), Status.SETTLED, ADMIN,
                   None, "settled_at", by="settled_by", headline="Dispute settled"),
    )
}
RENTALS = StateMachine(rentals, "rental", TRANSITIONS,
                       parties={"owner": "owner_id", "renter": "renter_id"}, guards=GUARDS)


assert {s.value for s in Status} == set(models.STATUSES)
assert {s.value for s in ACTIVE} == set(models.ACTIVE_STATUSES)
