"""`panamia ledger check`: re-verify what the database enforces, and what it cannot.

The triggers and the CHECK hold for every ordinary writer, but not for a superuser who turns
them off (`session_replication_role = replica`), restores a dump, or edits a balance by hand.
So, each in one statement (one snapshot): every entry balances per currency; every kept
balance equals the sum of its postings; every escrow account holds exactly what the sidecars
declare should be held now (`Sidecar.held_funds`; an escrow with no declared row must be 0).
"""

from collections.abc import Mapping

from rich.console import Console
from rich.markup import escape
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from panamia.ledger.money import show
from panamia.resources import Resources
from panamia.schemas import Schema

UNBALANCED = text("""
SELECT e.event_key, a.currency, sum(p.amount) AS total
  FROM ledger_postings p
  JOIN ledger_accounts a ON a.id = p.account_id
  JOIN ledger_entries e ON e.id = p.entry_id
 GROUP BY e.id, a.currency HAVING sum(p.amount) <> 0
 ORDER BY e.event_key, a.currency
""")

DRIFTED = text("""
SELECT a.kind, a.owner, a.currency, a.balance, coalesce(sum(p.amount), 0) AS posted
  FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
 WHERE a.balance IS NOT NULL
 GROUP BY a.id HAVING a.balance <> coalesce(sum(p.amount), 0)
 ORDER BY a.kind, a.owner, a.currency
""")

COUNTS = text("SELECT (SELECT count(*) FROM ledger_entries), (SELECT count(*) FROM ledger_accounts)")

NOTHING_DECLARED = "SELECT NULL::text, NULL::text, NULL::text, NULL::numeric WHERE false"

ESCROW = """
WITH declared AS ({declared}),
expected AS (
  SELECT ref_type || ':' || ref_id AS owner, currency, sum(amount) AS amount
    FROM declared GROUP BY 1, 2),
held AS (SELECT owner, currency, balance FROM ledger_accounts WHERE kind = 'escrow')
SELECT owner, currency, coalesce(held.balance, 0) AS held, coalesce(expected.amount, 0) AS expected
  FROM held FULL JOIN expected USING (owner, currency)
 WHERE coalesce(held.balance, 0) <> coalesce(expected.amount, 0)
 ORDER BY owner, currency
"""


class LedgerReport(Schema):
    ok: bool
    entries: int
    accounts: int
    differences: list[str]  # one sentence each, naming the entry or account


def _declared(held_funds: Mapping[str, str]) -> str:
    """Every sidecar's SELECT, with its columns cast alike so that they can be unioned."""
    selects = [
        f"SELECT ref_type::text, ref_id::text, currency::text, amount::numeric FROM "
        f"({query.strip().rstrip(';')}) AS \"{name}\"(ref_type, ref_id, currency, amount)"
        for name, query in sorted(held_funds.items())
    ]
    return " UNION ALL ".join(selects) if selects else (
        f"SELECT * FROM ({NOTHING_DECLARED}) AS none(ref_type, ref_id, currency, amount)")


async def check(resources: Resources, held_funds: Mapping[str, str]) -> LedgerReport:
    """`held_funds`: each sidecar's name and its `held_funds` SELECT."""
    differences = []
    async with resources.db.begin() as db:
        for event_key, currency, total in await db.execute(UNBALANCED):
            differences.append(f"entry {event_key} does not balance in {currency}: its "
                               f"postings sum to {total}")
        for kind, owner, currency, balance, posted in await db.execute(DRIFTED):
            differences.append(f"account {kind}:{owner} {currency} has a balance of "
                               f"{balance}, but its postings sum to {posted}")
        try:
            async with db.begin_nested():
                escrows = (await db.execute(
                    text(ESCROW.format(declared=_declared(held_funds))))).all()
        except DBAPIError as error:
            differences.append(f"the sidecars' held_funds could not be read: {error.orig}")
            escrows = []
        for owner, currency, held, expected in escrows:
            differences.append(f"escrow {owner} holds {show(held, currency)}, but the sidecars "
                               f"declare {show(expected, currency)} should be held")
        entries, accounts = (await db.execute(COUNTS)).one()
    return LedgerReport(ok=not differences, entries=entries, accounts=accounts,
                        differences=differences)


def print_report(report: LedgerReport, console: Console) -> None:
    console.print(f"ledger: {report.entries} entries, {report.accounts} accounts")
    for difference in report.differences:
        console.print(f"[red]difference:[/red] {escape(difference)}", soft_wrap=True)
    console.print("[green]ledger consistent[/green]" if report.ok
                  else "[red]ledger inconsistent[/red]")
