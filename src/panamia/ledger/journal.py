"""Posting money: one journal entry per business event, inside the caller's transaction.

`post` turns moves into postings (one signed amount per account and currency), so an entry
balances by construction; the database checks it again at commit. Members' and escrow
balances are kept on their account rows, updated in account-id order (two entries that touch
the same accounts lock them in the same order and cannot deadlock) and guarded so that they
never go below zero; a CHECK backs the guard. The hot accounts (fees, external) keep no
balance row, so that they never serialise the writers: their balance is summed when read.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from panamia.db.postgres import new_id, violation
from panamia.errors import Conflict, DomainError, Forbidden, Invalid
from panamia.ledger import money
from panamia.ledger.accounts import Account, escrow_ref
from panamia.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting

accounts_t = LedgerAccount.__table__
entries_t = LedgerEntry.__table__
postings_t = LedgerPosting.__table__

Connection = AsyncConnection | AsyncSession
Key = tuple[Account, str]  # an account in one currency


@dataclass(frozen=True, slots=True)
class Move:
    source: Account
    target: Account
    amount: Decimal
    currency: str


class InsufficientFunds(Conflict):
    error = "insufficient funds"

    def __init__(self, account: Account, currency: str, balance: Decimal, needed: Decimal):
        self.account, self.currency, self.balance, self.needed = account, currency, balance, needed
        have, want = money.show(balance, currency), money.show(needed, currency)
        if account.kind == "escrow":
            ref_type, ref_id = escrow_ref(account)
            detail = f"The money held for {ref_type} {ref_id} is {have}; {want} cannot be taken."
        else:
            detail = f"Not enough money: {have} available, {want} needed."
        super().__init__(detail)


class LedgerConflict(Conflict):
    error = "ledger conflict"

    def __init__(self, event_key: str):
        super().__init__(f"{event_key} was already posted with other amounts or accounts: "
                         "a business event posts once, with the same moves every time.")


def _deltas(moves: Sequence[Move]) -> tuple[list[Move], dict[Key, Decimal]]:
    """The moves at their currency's scale, and what they add to each account."""
    if not moves:
        raise Invalid("an entry moves money at least once", fields=["moves"])
    scaled, deltas = [], defaultdict(Decimal)
    for move in moves:
        if isinstance(move.amount, Decimal) and move.amount == 0:
            continue  # a move of nothing, such as a fee of 0.00, is left out
        if move.source == move.target:
            raise Invalid(f"{move.source} cannot pay itself", fields=["moves"])
        move = Move(move.source, move.target, money.checked(move.amount, move.currency),
                    move.currency)
        scaled.append(move)
        deltas[(move.source, move.currency)] -= move.amount
        deltas[(move.target, move.currency)] += move.amount
    deltas = {key: delta for key, delta in deltas.items() if delta}
    if not deltas:
        raise Invalid("these moves change no balance: they are 0 or cancel out",
                      fields=["moves"])
    return scaled, deltas


def _digest(kind: str, moves: list[Move]) -> str:
    lines = sorted(f"{m.source} {m.target} {m.amount} {m.currency}" for m in moves)
    return hashlib.sha256(json.dumps([kind, lines]).encode()).hexdigest()


async def post(conn: Connection, *, event_key: str, kind: str, moves: Sequence[Move],
               recorded_by: str | None = None) -> bool:
    """Post the entry of `event_key` once, in the caller's transaction. True when posted now,
    False when it was posted before with the same moves. Raises `InsufficientFunds` or
    `LedgerConflict`; after any error nothing of this entry remains in the transaction."""
    if not event_key.strip():
        raise Invalid("an entry needs the key of its business event", fields=["event_key"])
    moves, deltas = _deltas(moves)
    digest = _digest(kind, moves)
    async with conn.begin_nested():
        entry_id = (await conn.execute(
            insert(entries_t)
            .values(id=new_id(), event_key=event_key, kind=kind, digest=digest,
                    recorded_by=recorded_by)
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(entries_t.c.id)
        )).scalar()
        if entry_id is None:
            posted = (await conn.execute(
                select(entries_t.c.digest).where(entries_t.c.event_key == event_key)
            )).scalar_one()
            if posted != digest:
                raise LedgerConflict(event_key)
            return False
        rows = await _accounts(conn, list(deltas))
        held_for = _whose_money(moves, rows)
        for key in sorted((k for k in deltas if not k[0].may_go_negative),
                          key=lambda k: rows[k].id):
            await _add(conn, key, rows[key].id, deltas[key], held_for.get(key))
        await conn.execute(insert(postings_t), [
            {"entry_id": entry_id, "account_id": rows[key].id, "amount": delta}
            for key, delta in deltas.items()
        ])
    return True


async def _accounts(conn: Connection, keys: list[Key]) -> dict:
    """The account rows of `keys`, the missing ones created."""

    async def read(wanted: list[Key]) -> dict:
        result = await conn.execute(
            select(accounts_t.c.id, accounts_t.c.kind, accounts_t.c.owner,
                   accounts_t.c.currency, accounts_t.c.held_for)
            .where(tuple_(accounts_t.c.kind, accounts_t.c.owner, accounts_t.c.currency)
                   .in_([(a.kind, a.owner, currency) for a, currency in wanted]))
        )
        return {(Account(r.kind, r.owner), r.currency): r for r in result}

    rows = await read(keys)
    missing = sorted(key for key in keys if key not in rows)
    if missing:
        await conn.execute(
            insert(accounts_t)
            .values([{"id": new_id(), "kind": account.kind, "owner": account.owner,
                      "currency": currency,
                      "balance": None if account.may_go_negative else Decimal(0)}
                     for account, currency in missing])
            .on_conflict_do_nothing(index_elements=["kind", "owner", "currency"])
        )
        rows |= await read(missing)
    return rows


def _whose_money(moves: list[Move], rows: dict) -> dict[Key, str]:
    """For each escrow account funded here, the member whose money goes in: the payer, or
    the member of the escrow it comes from."""
    held_for = {}
    for move in moves:
        if move.target.kind != "escrow":
            continue
        source = move.source
        member = (source.owner if source.kind == "available"
                  else rows[(source, move.currency)].held_for if source.kind == "escrow"
                  else None)
        if member:
            held_for.setdefault((move.target, move.currency), member)
    return held_for


async def _add(conn: Connection, key: Key, account_id: str, delta: Decimal,
               held_for: str | None) -> None:
    balance = accounts_t.c.balance
    changed = await conn.execute(
        update(accounts_t)
        .where(accounts_t.c.id == account_id, balance + delta >= 0)
        .values(balance=balance + delta,
                held_for=func.coalesce(accounts_t.c.held_for, held_for))
        .returning(balance)
    )
    if changed.first() is None:
        current = (await conn.execute(
            select(balance).where(accounts_t.c.id == account_id))).scalar_one()
        raise InsufficientFunds(key[0], key[1], current, -delta)


async def balance(conn: Connection, account: Account, currency: str) -> Decimal:
    """What `account` holds in `currency` (0 for an account never used)."""
    where = (accounts_t.c.kind == account.kind, accounts_t.c.owner == account.owner,
             accounts_t.c.currency == currency)
    if account.may_go_negative:
        query = (select(func.coalesce(func.sum(postings_t.c.amount), 0))
                 .join_from(postings_t, accounts_t).where(*where))
    else:
        query = select(accounts_t.c.balance).where(*where)
    return (await conn.execute(query)).scalar() or Decimal(0)


def refusal(error: DBAPIError) -> DomainError | None:
    """The domain error for a database refusal of the ledger's (at a statement or at commit),
    None for any other error."""
    _, constraint = violation(error)
    if constraint == "ledger_entry_balanced":
        return Conflict(f"Refused: {error.orig}. Nothing was saved.",
                        error="unbalanced entry")
    if constraint == "ck_ledger_accounts_never_negative":
        return Conflict("Refused: a member's or an escrow balance would go below zero. "
                        "Nothing was saved.", error="insufficient funds")
    if constraint == "ledger_append_only":
        return Forbidden(f"Refused: {error.orig}.")
    return None
