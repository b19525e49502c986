"""What PostgreSQL itself refuses, whoever writes: unbalanced entries (at commit), changes to
posted entries, negative member balances; and two writers racing for the same money."""

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from panamia.ledger import accounts, journal
from panamia.ledger.journal import InsufficientFunds, Move
from tests.fixtures.database import until_waiting
from tests.ledger.factories import member_with

D = Decimal


def spend(user_id: str, amount: str, ref: str) -> list[Move]:
    return [Move(accounts.available(user_id), accounts.escrow("exchange_transaction", ref),
                 D(amount), "USD")]


async def available(resources, user_id: str) -> Decimal:
    async with resources.db.begin() as db:
        return await journal.balance(db, accounts.available(user_id), "USD")


async def account_id(conn, account: accounts.Account) -> str:
    return (await conn.execute(text(
        "SELECT id FROM ledger_accounts WHERE kind = :kind AND owner = :owner"),
        {"kind": account.kind, "owner": account.owner})).scalar_one()


class TestRefusedByTheDatabase:
    async def test_an_unbalanced_entry_is_refused_at_commit(self, ledger_resources,
                                                            ledger_engine):
        ana = await member_with(ledger_resources, "100")
        conn = await ledger_engine.connect()
        transaction = await conn.begin()
        await conn.execute(text(
            "INSERT INTO ledger_entries (id, event_key, kind, digest) "
            "VALUES ('lopsided', 'test:lopsided', 'test.raw', '-')"))
        await conn.execute(text(
            "INSERT INTO ledger_postings (entry_id, account_id, amount) "
            "VALUES ('lopsided', :account, 10)"), {"account": await account_id(
                conn, accounts.available(ana))})  # accepted until the transaction ends

        with pytest.raises(DBAPIError) as refused:
            await transaction.commit()
        await conn.close()

        refusal = journal.refusal(refused.value)
        assert (refusal.status, refusal.error) == (409, "unbalanced entry")
        assert "ledger entry lopsided does not balance in USD: its postings sum to 10" \
            in refusal.detail
        async with ledger_engine.connect() as check:
            assert (await check.execute(text(
                "SELECT count(*) FROM ledger_entries WHERE id = 'lopsided'"))).scalar() == 0

    async def test_an_entry_must_balance_in_each_currency_not_only_in_total(
            self, ledger_resources, ledger_engine):
        ana = await member_with(ledger_resources, "100")
        ben = await member_with(ledger_resources, "100", "EUR")
        conn = await ledger_engine.connect()
        transaction = await conn.begin()
        await conn.execute(text(
            "INSERT INTO ledger_entries (id, event_key, kind, digest) "
            "VALUES ('swap', 'test:swap', 'test.raw', '-')"))
        await conn.execute(text(
            "INSERT INTO ledger_postings (entry_id, account_id, amount) "
            "SELECT 'swap', id, CASE currency WHEN 'USD' THEN -10 ELSE 10 END "
            "FROM ledger_accounts WHERE kind = 'available' AND owner IN (:ana, :ben)"),
            {"ana": ana, "ben": ben})  # -10 USD +10 EUR: zero in total only

        with pytest.raises(DBAPIError) as refused:
            await transaction.commit()
        await conn.close()

        assert "ledger entry swap does not balance in" in journal.refusal(refused.value).detail

    @pytest.mark.parametrize("statement", [
        "UPDATE ledger_postings SET amount = amount * 2",
        "DELETE FROM ledger_postings",
        "TRUNCATE ledger_postings",
        "UPDATE ledger_entries SET kind = 'rewritten'",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries CASCADE",
    ])
    async def test_posted_entries_cannot_be_changed(self, ledger_resources, ledger_engine,
                                                    statement):
        ana = await member_with(ledger_resources, "100")

        with pytest.raises(DBAPIError) as refused:
            async with ledger_engine.begin() as conn:
                await conn.execute(text(statement))

        refusal = journal.refusal(refused.value)
        assert refusal.status == 403
        assert "the ledger is append-only; post a correcting entry instead" in refusal.detail
        assert await available(ledger_resources, ana) == D("100.00")

    async def test_a_member_balance_cannot_be_set_below_zero(self, ledger_resources,
                                                             ledger_engine):
        ana = await member_with(ledger_resources, "100")

        with pytest.raises(DBAPIError) as refused:
            async with ledger_engine.begin() as conn:
                await conn.execute(text(
                    "UPDATE ledger_accounts SET balance = -1 WHERE owner = :owner"),
                    {"owner": ana})

        assert journal.refusal(refused.value).error == "insufficient funds"


class TestConcurrentSpending:
    async def test_two_spends_of_60_from_100_one_succeeds(self, ledger_resources, lock_watch):
        ana = await member_with(ledger_resources, "100")
        first_posted, release_first = asyncio.Event(), asyncio.Event()

        async def first():
            async with ledger_resources.db.begin() as db:
                await journal.post(db, event_key=f"test:{ana}:a", kind="test.hold",
                                   moves=spend(ana, "60", "a"))
                first_posted.set()
                await release_first.wait()  # holds the balance row until the second waits

        async def second():
            await first_posted.wait()
            async with ledger_resources.db.begin() as db:
                await journal.post(db, event_key=f"test:{ana}:b", kind="test.hold",
                                   moves=spend(ana, "60", "b"))

        async def referee():
            await first_posted.wait()
            await until_waiting(lock_watch)
            release_first.set()

        results = await asyncio.gather(first(), second(), referee(), return_exceptions=True)

        assert results[0] is None
        assert isinstance(results[1], InsufficientFunds)
        assert results[1].detail == "Not enough money: 40.00 USD available, 60.00 USD needed."
        assert await available(ledger_resources, ana) == D("40.00")

    async def test_the_same_event_posted_twice_at_once_posts_once(self, ledger_resources):
        ana = await member_with(ledger_resources, "100")

        async def hold():
            async with ledger_resources.db.begin() as db:
                return await journal.post(db, event_key=f"test:{ana}:same", kind="test.hold",
                                          moves=spend(ana, "30", "same"))

        assert sorted(await asyncio.gather(hold(), hold())) == [False, True]
        assert await available(ledger_resources, ana) == D("70.00")

    async def test_crossing_payments_between_two_members_never_deadlock(self, ledger_resources):
        ana, ben = (await member_with(ledger_resources, "100"),
                    await member_with(ledger_resources, "100"))

        async def pay(payer: str, payee: str, times: int) -> None:
            for number in range(times):
                async with ledger_resources.db.begin() as db:
                    await journal.post(db, event_key=f"test:{payer}:pays:{number}",
                                       kind="test.pay", moves=[Move(
                                           accounts.available(payer), accounts.available(payee),
                                           D("1"), "USD")])
                    await asyncio.sleep(0)  # let the other side take its locks meanwhile

        await asyncio.gather(pay(ana, ben, 25), pay(ben, ana, 15))

        assert await available(ledger_resources, ana) == D("90.00")
        assert await available(ledger_resources, ben) == D("110.00")
