"""Posting entries through `journal.post`, inside the caller's transaction."""

from decimal import Decimal

import pytest

from panamia.errors import Invalid
from panamia.ledger import accounts, journal
from panamia.ledger.journal import InsufficientFunds, LedgerConflict, Move
from panamia.ledger.providers import manual
from tests.identity.factories import create_user
from tests.ledger.factories import member_with

D = Decimal


async def balance(resources, account, currency="USD") -> Decimal:
    async with resources.db.begin() as db:
        return await journal.balance(db, account, currency)


async def hold(resources, user_id, amount, *, key="hold", ref="t1", currency="USD") -> bool:
    async with resources.db.begin() as db:
        return await journal.post(db, event_key=f"test:{ref}:{key}", kind="test.hold", moves=[
            Move(accounts.available(user_id), accounts.escrow("exchange_transaction", ref),
                 D(amount), currency)])


class TestPosting:
    async def test_a_deposit_makes_money_available_and_the_outside_world_negative(
            self, resources):
        ana = await member_with(resources, "100")

        assert await balance(resources, accounts.available(ana)) == D("100.00")
        assert await balance(resources, accounts.available(ana), "EUR") == 0
        assert await balance(resources, accounts.external("manual")) <= D("-100.00")

    async def test_a_release_splits_escrow_between_seller_and_fees(self, resources):
        buyer, seller = await member_with(resources, "100"), await create_user(resources)
        await hold(resources, buyer, "100")
        fees_before = await balance(resources, accounts.fees())
        escrow = accounts.escrow("exchange_transaction", "t1")

        async with resources.db.begin() as db:
            await journal.post(db, event_key="test:t1:release", kind="test.release", moves=[
                Move(escrow, accounts.available(seller), D("95"), "USD"),
                Move(escrow, accounts.fees(), D("5"), "USD")])

        assert await balance(resources, accounts.available(buyer)) == 0
        assert await balance(resources, escrow) == 0
        assert await balance(resources, accounts.available(seller)) == D("95.00")
        assert await balance(resources, accounts.fees()) - fees_before == D("5.00")

    async def test_a_connection_serves_as_well_as_a_session(self, resources, connection):
        ana = await member_with(resources, "100")

        assert await journal.post(connection, event_key="test:conn", kind="test.hold", moves=[
            Move(accounts.available(ana), accounts.fees(), D("1"), "USD")])

        assert await journal.balance(connection, accounts.available(ana), "USD") == D("99.00")

    async def test_an_entry_rolls_back_with_the_callers_transaction(self, resources):
        ana = await member_with(resources, "100")

        with pytest.raises(RuntimeError):
            async with resources.db.begin() as db:
                await journal.post(db, event_key="test:t1:hold", kind="test.hold", moves=[
                    Move(accounts.available(ana), accounts.escrow("rental", "r1"),
                         D("30"), "USD")])
                raise RuntimeError("the state change failed")

        assert await balance(resources, accounts.available(ana)) == D("100.00")
        assert await hold(resources, ana, "30", ref="r1")  # the key was never used


    async def test_a_move_of_zero_is_left_out(self, resources):
        buyer, seller = await member_with(resources, "100"), await create_user(resources)
        await hold(resources, buyer, "100")
        escrow = accounts.escrow("exchange_transaction", "t1")

        async with resources.db.begin() as db:
            await journal.post(db, event_key="test:t1:release", kind="test.release", moves=[
                Move(escrow, accounts.available(seller), D("100"), "USD"),
                Move(escrow, accounts.fees(), D("0.00"), "USD")])  # no fee on this one

        assert await balance(resources, accounts.available(seller)) == D("100.00")


class TestNeverNegative:
    async def test_spending_more_than_is_available_is_refused_naming_both_amounts(
            self, resources):
        ana = await member_with(resources, "50")

        with pytest.raises(InsufficientFunds) as refused:
            await hold(resources, ana, "60")

        assert refused.value.status == 409
        assert refused.value.detail == "Not enough money: 50.00 USD available, 60.00 USD needed."
        assert await balance(resources, accounts.available(ana)) == D("50.00")

    async def test_a_refused_entry_leaves_nothing_and_the_transaction_usable(self, resources):
        ana = await member_with(resources, "50")

        async with resources.db.begin() as db:
            with pytest.raises(InsufficientFunds):
                await journal.post(db, event_key="test:big", kind="test.hold", moves=[
                    Move(accounts.available(ana), accounts.escrow("rental", "r2"), D("40"),
                         "USD"),
                    Move(accounts.available(ana), accounts.fees(), D("20"), "USD")])
            assert await journal.post(db, event_key="test:big", kind="test.hold", moves=[
                Move(accounts.available(ana), accounts.escrow("rental", "r2"), D("40"), "USD")])

        assert await balance(resources, accounts.available(ana)) == D("10.00")

    async def test_escrow_cannot_release_more_than_it_holds(self, resources):
        ana = await member_with(resources, "100")
        await hold(resources, ana, "30", ref="bid9")

        with pytest.raises(InsufficientFunds) as refused:
            async with resources.db.begin() as db:
                await journal.post(db, event_key="test:bid9:refund", kind="test.refund", moves=[
                    Move(accounts.escrow("exchange_transaction", "bid9"),
                         accounts.available(ana), D("31"), "USD")])

        assert refused.value.detail == ("The money held for exchange_transaction bid9 is "
                                        "30.00 USD; 31.00 USD cannot be taken.")


class TestIdempotency:
    async def test_a_replayed_event_posts_once(self, resources):
        ana = await member_with(resources, "100")

        assert await hold(resources, ana, "60") is True
        assert await hold(resources, ana, "60.00") is False

        assert await balance(resources, accounts.available(ana)) == D("40.00")

    async def test_the_same_key_with_another_amount_is_a_conflict(self, resources):
        ana = await member_with(resources, "100")
        await hold(resources, ana, "60")

        with pytest.raises(LedgerConflict) as conflict:
            await hold(resources, ana, "61")

        assert conflict.value.status == 409
        assert "test:t1:hold was already posted" in conflict.value.detail
        assert await balance(resources, accounts.available(ana)) == D("40.00")

    async def test_a_manual_deposit_is_keyed_by_its_reference(self, resources):
        ana = await create_user(resources)
        for _ in range(2):
            async with resources.db.begin() as db:
                await manual.deposit(db, user_id=ana, amount=D("20"), currency="EUR",
                                     reference="bank-77", recorded_by=None)

        assert await balance(resources, accounts.available(ana), "EUR") == D("20.00")


class TestAmounts:
    @pytest.mark.parametrize(("amount", "currency", "message"), [
        ("0", "USD", "change no balance"),
        ("-5", "USD", "more than 0"),
        ("1.005", "USD", "at most 2 decimals"),
        ("1.5", "JPY", "at most 0 decimals"),
        ("NaN", "USD", "more than 0"),
        ("1e15", "USD", "less than"),
        ("5", "usd", "ISO 4217"),
    ])
    async def test_bad_amounts_are_refused_before_anything_is_written(
            self, resources, amount, currency, message):
        ana = await create_user(resources)

        with pytest.raises(Invalid, match=message):
            await hold(resources, ana, amount, currency=currency)

    async def test_moves_that_cancel_out_are_refused(self, resources):
        ana, ben = accounts.available("ana"), accounts.available("ben")

        with pytest.raises(Invalid, match="change no balance"):
            async with resources.db.begin() as db:
                await journal.post(db, event_key="test:circle", kind="test.circle", moves=[
                    Move(ana, ben, D("5"), "USD"), Move(ben, ana, D("5"), "USD")])

    async def test_floats_are_not_money(self, resources):
        ana = await member_with(resources, "100")

        with pytest.raises(TypeError):
            async with resources.db.begin() as db:
                await journal.post(db, event_key="test:float", kind="test.hold", moves=[
                    Move(accounts.available(ana), accounts.fees(), 5.0, "USD")])
