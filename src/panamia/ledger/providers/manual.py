"""The `manual` provider: an administrator records money a member handed over or was paid,
in cash or by bank transfer, under its reference (a receipt or bank reference). Recording
the same reference again changes nothing."""

from decimal import Decimal

from panamia.ledger import accounts, journal
from panamia.ledger.accounts import Account
from panamia.ledger.journal import Connection, Move

PROVIDER = "manual"


async def deposit(conn: Connection, *, user_id: str, amount: Decimal, currency: str,
                  reference: str, recorded_by: str | None) -> bool:
    """Money received from the member: external:manual -> their available money."""
    return await _record(conn, "deposit", accounts.external(PROVIDER),
                         accounts.available(user_id), amount, currency, reference, recorded_by)


async def payout(conn: Connection, *, user_id: str, amount: Decimal, currency: str,
                 reference: str, recorded_by: str | None) -> bool:
    """Money paid to the member: their available money -> external:manual."""
    return await _record(conn, "payout", accounts.available(user_id),
                         accounts.external(PROVIDER), amount, currency, reference, recorded_by)


async def _record(conn: Connection, direction: str, source: Account, target: Account,
                  amount: Decimal, currency: str, reference: str,
                  recorded_by: str | None) -> bool:
    return await journal.post(conn, event_key=f"manual:{direction}:{reference}",
                              kind=f"manual.{direction}",
                              moves=[Move(source, target, amount, currency)],
                              recorded_by=recorded_by)
