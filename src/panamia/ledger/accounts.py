"""Names of ledger accounts. An account exists in each currency it has seen, created by the
first entry that touches it; these values only say which one is meant."""

from dataclasses import dataclass
from uuid import UUID

from panamia.ledger.models import HOT_KINDS


@dataclass(frozen=True, order=True, slots=True)
class Account:
    kind: str
    owner: str

    @property
    def may_go_negative(self) -> bool:
        return self.kind in HOT_KINDS

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner}"


def available(user_id: str) -> Account:
    """A member's spendable money; never negative."""
    return Account("available", user_id)


def escrow(ref_type: str, ref_id: str | UUID) -> Account:
    """The money held for one thing (a bid, a transaction, a rental deposit); never negative."""
    if not ref_type or ":" in ref_type:
        raise ValueError(f"an escrow's ref_type is a plain label, not {ref_type!r}")
    return Account("escrow", f"{ref_type}:{ref_id}")


def fees() -> Account:
    return Account("fees", "platform")


def external(provider: str) -> Account:
    """The outside world as a payment provider sees it: money in makes it negative."""
    return Account("external", provider)


def escrow_ref(account: Account) -> tuple[str, str]:
    """(ref_type, ref_id) of an escrow account."""
    ref_type, _, ref_id = account.owner.partition(":")
    return ref_type, ref_id
