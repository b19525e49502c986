"""`panamia ledger check` (and doctor) on a good ledger, and on one tampered with by a
superuser who turned the triggers off."""

from decimal import Decimal

import pytest
from sqlalchemy import text

from panamia import doctor
from panamia.ledger import accounts, journal
from panamia.ledger import check as ledger_check
from panamia.ledger.journal import Move
from tests.fixtures.cli import invoke
from tests.identity.factories import create_user, unique_email
from tests.ledger.factories import member_with

D = Decimal
# What a rentals sidecar would declare: the deposit of rental r1 is held.
HELD = {"rentals": "SELECT 'rental' AS ref_type, 'r1' AS ref_id, 'USD' AS currency, "
                   "30.00 AS amount;"}


async def hold_deposit(resources, user_id: str, ref: str = "r1", amount: str = "30") -> None:
    async with resources.db.begin() as db:
        await journal.post(db, event_key=f"rental:{ref}:hold", kind="rental.deposit_hold",
                           moves=[Move(accounts.available(user_id), accounts.escrow("rental", ref),
                                       D(amount), "USD")])


async def tamper(conn, *statements: str) -> None:
    """As a superuser may: with the triggers off for this transaction."""
    await conn.execute(text("SET LOCAL session_replication_role = replica"))
    for statement in statements:
        await conn.execute(text(statement))
    await conn.execute(text("SET LOCAL session_replication_role = origin"))


class TestCheck:
    async def test_a_good_ledger_passes(self, resources):
        await hold_deposit(resources, await member_with(resources, "100"))

        report = await ledger_check.check(resources, HELD)

        assert (report.ok, report.differences) == (True, [])
        assert report.entries >= 2 and report.accounts >= 3

    async def test_an_escrow_nobody_declares_must_be_empty(self, resources):
        ana = await member_with(resources, "100")
        await hold_deposit(resources, ana)
        await hold_deposit(resources, ana, ref="r2", amount="5")

        report = await ledger_check.check(resources, HELD)

        assert report.differences == [
            "escrow rental:r2 holds 5.00 USD, but the sidecars declare 0.00 USD should be held"]

    async def test_a_declared_hold_that_is_missing_is_named(self, resources):
        report = await ledger_check.check(resources, HELD)

        assert report.differences == [
            "escrow rental:r1 holds 0.00 USD, but the sidecars declare 30.00 USD should be held"]

    async def test_a_broken_declaration_is_reported_not_raised(self, resources):
        report = await ledger_check.check(resources, {"rentals": "SELECT * FROM no_such_table"})

        assert not report.ok
        assert "held_funds could not be read" in report.differences[0]

    async def test_an_unbalanced_posting_slipped_in_is_named(self, resources, connection):
        ana = await member_with(resources, "100")
        await tamper(
            connection,
            "INSERT INTO ledger_entries (id, event_key, kind, digest) "
            "VALUES ('forged', 'forged:gift', 'gift', '-')",
            "INSERT INTO ledger_postings (entry_id, account_id, amount) "
            f"SELECT 'forged', id, 50 FROM ledger_accounts WHERE owner = '{ana}'")

        report = await ledger_check.check(resources, {})

        assert report.differences == [
            "entry forged:gift does not balance in USD: its postings sum to 50",
            f"account available:{ana} USD has a balance of 100.00, but its postings sum to "
            "150.00",
        ]

    async def test_doctor_includes_the_ledger(self, resources, connection):
        ana = await member_with(resources, "100")
        assert (await doctor.check(resources)).ledger.ok
        await tamper(connection, f"UPDATE ledger_accounts SET balance = 1000 WHERE owner = '{ana}'")

        report = await doctor.check(resources)

        assert not report.ok
        assert report.ledger.differences == [
            f"account available:{ana} USD has a balance of 1000, but its postings sum to 100.00"]


class TestCommands:
    """In order, on a database of this module's own: record, read, check, tamper, check."""

    @pytest.fixture
    async def ana(self, ledger_resources):
        email = unique_email()
        await create_user(ledger_resources, email=email)
        return email

    async def test_deposit_payout_and_balance_from_the_shell(self, cli_env, ana):
        deposited = await invoke("ledger", "deposit", ana, "100", "--reference", "cash-1")
        again = await invoke("ledger", "deposit", ana, "100", "--reference", "cash-1")
        paid = await invoke("ledger", "payout", ana, "30", "--reference", "cash-2")
        too_much = await invoke("ledger", "payout", ana, "80", "--reference", "cash-3")
        balance = await invoke("ledger", "balance", ana)

        assert deposited.exit_code == 0, deposited.output
        assert "recorded; available now 100.00 USD" in deposited.output
        assert "already recorded, nothing changed" in again.output
        assert "available now 70.00 USD" in paid.output
        assert too_much.exit_code == 2
        assert "Not enough money: 70.00 USD available, 80.00 USD needed." in too_much.output
        assert "USD" in balance.output and "70.00 USD" in balance.output

    async def test_bad_input_from_the_shell_exits_2_saying_why(self, cli_env, ana):
        unknown = await invoke("ledger", "deposit", "nobody@example.org", "5",
                               "--reference", "x")
        not_money = await invoke("ledger", "deposit", ana, "five", "--reference", "x")

        assert (unknown.exit_code, not_money.exit_code) == (2, 2)
        assert "No member has the email address nobody@example.org." in unknown.output
        assert "cannot record 'five'" in not_money.output

    async def test_check_passes_then_names_a_tampered_balance(self, cli_env, ana,
                                                             ledger_engine):
        await invoke("ledger", "deposit", ana, "100", "--reference", "cash-9")
        good = await invoke("ledger", "check")
        async with ledger_engine.begin() as conn:
            await tamper(conn, "UPDATE ledger_accounts SET balance = balance + 1 "
                               "WHERE kind = 'available'")

        bad = await invoke("ledger", "check")
        doctor_says = await invoke("doctor")

        assert good.exit_code == 0, good.output
        assert "ledger consistent" in good.output
        assert bad.exit_code == 1
        assert "has a balance of 101.00, but its postings sum to 100.00" in bad.output
        assert "ledger inconsistent" in bad.output
        assert doctor_says.exit_code == 1
        assert "has a balance of 101.00, but its postings sum to 100.00" in doctor_says.output
