"""The `manual` provider: an administrator records money a member handed over or was paid,
in cash or by bank transfer, under its reference (a receipt or bank reference). Recording
the same reference again changes nothing."""

from decimal import Decimal

from panamia.ledger import accounts, journal
from panamia.ledger.journal import Connection, Move

PROVIDER = "manual"


async def deposit(conn: Connection, *, user_id: str, amount: Decimal, currency: str,
                  reference: str, recorded_by: str | None) -> bool:
    """Money received from the member: external:manual -> their available money."""
    return await journal.post(
        conn, event_key=f"manual:deposit:{reference}", kind="manual.deposit",
        moves=[Move(accounts.external(PROVIDER), accounts.available(user_id), amount, currency)],
        recorded_by=recorded_by,
    )


async def payout(conn: Connection, *, user_id: str, amount: Decimal, currency: str,
                 reference: str, recorded_by: str | None) -> bool:
    """Money paid to the member: their available money -> external:manual."""
    return await journal.post(
        conn, event_key=f"manual:payout:{reference}", kind="manual.payout",
        moves=[Move(accounts.available(user_id), accounts.external(PROVIDER), amount, currency)],
        recorded_by=recorded_by,
    )
