"""`panamia ledger …`: record manual deposits and payouts, read a member's money, check
the ledger. It reads the sidecars' declarations (for `check`), so it sits above them."""

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from panamia.cli_support import fail, run_with_resources
from panamia.errors import DomainError
from panamia.ledger import check as ledger_check
from panamia.ledger import service
from panamia.ledger.money import show
from panamia.ledger.schemas import ManualMoney
from panamia.sidecar import registry

ledger_app = typer.Typer(help="The money ledger: manual deposits and payouts, balances, checks.",
                         no_args_is_help=True)
console = Console()

Email = Annotated[str, typer.Argument(help="The member's email address")]
Amount = Annotated[str, typer.Argument(help="The amount, e.g. 25.00")]
Currency = Annotated[str, typer.Option(help="ISO 4217 code")]
Reference = Annotated[str, typer.Option(
    help="The receipt or bank reference; recording it again changes nothing")]


def _record(direction: service.Direction, email: str, amount: str, currency: str,
            reference: str) -> None:
    try:
        body = ManualMoney(email=email, amount=Decimal(amount), currency=currency,
                           reference=reference)
    except (InvalidOperation, ValidationError) as exc:
        raise fail(f"cannot record {amount!r} {currency!r}: {exc}") from None
    try:
        recorded = run_with_resources(
            "cli", lambda r: service.record_manual(r, direction, body, recorded_by=None))
    except DomainError as exc:
        raise fail(exc.detail) from None
    what = "recorded" if recorded.posted else "already recorded, nothing changed"
    console.print(f"{direction} {show(recorded.amount, recorded.currency)} for {email} "
                  f"({reference}): {what}; available now "
                  f"{show(recorded.available, recorded.currency)}", soft_wrap=True)


@ledger_app.command()
def deposit(email: Email, amount: Amount, reference: Reference, currency: Currency = "USD"):
    """Record money a member handed over in cash or by bank transfer."""
    _record("deposit", email, amount, currency, reference)


@ledger_app.command()
def payout(email: Email, amount: Amount, reference: Reference, currency: Currency = "USD"):
    """Record money paid out to a member in cash or by bank transfer."""
    _record("payout", email, amount, currency, reference)


@ledger_app.command()
def balance(email: Email) -> None:
    """A member's available and held money per currency, and what is held."""

    async def read(resources):
        async with resources.db.begin() as db:
            user_id = await service.member_id(db, email)
        return await service.my_money(resources, user_id)

    try:
        mine = run_with_resources("cli", read)
    except DomainError as exc:
        raise fail(exc.detail) from None
    table = Table("currency", "available", "held")
    for total in mine.totals:
        table.add_row(total.currency, show(total.available, total.currency),
                      show(total.held, total.currency))
    console.print(table)
    for hold in mine.holds:
        console.print(f"held {show(hold.amount, hold.currency)} for {hold.ref_type} "
                      f"{hold.ref_id} since {hold.since:%Y-%m-%d}", soft_wrap=True)


@ledger_app.command("check")
def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
) -> None:
    """Verify every invariant of the ledger; exit 1 naming each difference."""
    report = run_with_resources(
        "cli", lambda r: ledger_check.check(r, registry.held_funds()))
    if as_json:
        typer.echo(report.model_dump_json(by_alias=True, indent=2))
    else:
        ledger_check.print_report(report, console)
    raise typer.Exit(0 if report.ok else 1)
