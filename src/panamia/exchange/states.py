"""An offer's and a transaction's statuses and the steps between them, declared once.

```
offer:        pending ─accept(seller, before it expires)→ accepted
              pending ─decline(seller)→ declined      pending ─withdraw(buyer)→ withdrawn
              pending ─expire(sweep, at expires_at)→ expired

transaction:  awaiting_payment ─pay(buyer, before pay_by)→ paid ─hand_over(seller)→ handed_over
              handed_over ─confirm(buyer) or auto_complete(sweep, at auto_complete_at)→ completed
              awaiting_payment ─cancel(buyer|seller) or cancel_unpaid(sweep, at pay_by)→ cancelled
              paid|handed_over ─dispute(buyer|seller)→ disputed
              disputed ─refund(admin)→ refunded      disputed ─release(admin)→ completed
```

A transaction with nothing to pay (a free item, a swap) and a won auction (its bid's money is
already held) start at `paid`.
"""

from datetime import timedelta
from enum import StrEnum

from panamia.exchange import models
from panamia.sidecar.states import ADMIN, ANY_PARTY, SYSTEM, Guard, StateMachine, Transition

OFFER_LIFETIME = timedelta(days=3)
PAYMENT_TIME = timedelta(hours=48)
HANDOVER_WINDOW = timedelta(days=7)  # from handover to automatic completion
offers, transactions = models.ExchangeOffer.__table__, models.ExchangeTransaction.__table__


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Status(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    HANDED_OVER = "handed_over"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"
    REFUNDED = "refunded"


PENDING = frozenset({OfferStatus.PENDING})
OFFER_STEPS = {t.name: t for t in (
    Transition("accept", PENDING, OfferStatus.ACCEPTED, "seller", "unexpired", "answered_at",
               notice="Accept", headline="Offer accepted"),
    Transition("decline", PENDING, OfferStatus.DECLINED, "seller", None, "answered_at",
               notice="Reject", headline="Offer declined"),
    Transition("withdraw", PENDING, OfferStatus.WITHDRAWN, "buyer", None, "answered_at",
               headline="Offer withdrawn"),
    Transition("expire", PENDING, OfferStatus.EXPIRED, SYSTEM, None, "answered_at",
               headline="Offer expired unanswered"),
)}
OFFERS = StateMachine(offers, "offer", OFFER_STEPS,
                      parties={"buyer": "buyer_id", "seller": "seller_id"}, guards={
    "unexpired": Guard(lambda now: offers.c.expires_at > now,
                       lambda o: f" but expired on {o.expires_at:%Y-%m-%d %H:%M} UTC.",
                       when="before it expires"),
})

UNPAID = frozenset({Status.AWAITING_PAYMENT})
HELD = frozenset({Status.PAID, Status.HANDED_OVER})
DISPUTED = frozenset({Status.DISPUTED})
STEPS = {t.name: t for t in (
    Transition("pay", UNPAID, Status.PAID, "buyer", "payable", "paid_at", headline="Paid"),
    Transition("hand_over", frozenset({Status.PAID}), Status.HANDED_OVER, "seller", None,
               "handed_over_at", headline="Handed over"),
    Transition("confirm", frozenset({Status.HANDED_OVER}), Status.COMPLETED, "buyer", None,
               "completed_at", headline="Received and completed"),
    Transition("auto_complete", frozenset({Status.HANDED_OVER}), Status.COMPLETED, SYSTEM, None,
               "completed_at", headline="Completed after the handover window"),
    Transition("cancel", UNPAID, Status.CANCELLED, ANY_PARTY, None, "cancelled_at",
               by="cancelled_by"),
    Transition("cancel_unpaid", UNPAID, Status.CANCELLED, SYSTEM, None, "cancelled_at",
               headline="Cancelled: not paid in time"),
    Transition("dispute", HELD, Status.DISPUTED, ANY_PARTY, None, "disputed_at",
               by="disputed_by"),
    Transition("refund", DISPUTED, Status.REFUNDED, ADMIN, None, "refunded_at",
               by="resolved_by", headline="Refunded to the buyer"),
    Transition("release", DISPUTED, Status.COMPLETED, ADMIN, None, "completed_at",
               by="resolved_by", headline="Released to the seller"),
)}
TRANSACTIONS = StateMachine(transactions, "transaction", STEPS,
                            parties={"buyer": "buyer_id", "seller": "seller_id"}, guards={
    "payable": Guard(lambda now: transactions.c.pay_by > now,
                     lambda t: f" but the time to pay ran out on {t.pay_by:%Y-%m-%d %H:%M} UTC.",
                     when="before its payment deadline"),
})
ADMIN_STEPS = frozenset(name for name, step in STEPS.items() if step.actor == ADMIN)
# Steps after which the escrow is paid out: to the seller minus the fee, or back to the buyer.
RELEASING = frozenset({"confirm", "auto_complete", "release"})

# The database declares the same sets; drift between the two is a bug found at import.
assert {s.value for s in OfferStatus} == set(models.OFFER_STATUSES)
assert {s.value for s in Status} == set(models.TRANSACTION_STATUSES)
