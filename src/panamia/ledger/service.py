"""The ledger's use cases for people: an administrator records money in or out (manual
provider), a member reads what they have."""

from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import NotFound
from panamia.identity.emails import normalize_email
from panamia.identity.models import User
from panamia.ledger import accounts, journal, money
from panamia.ledger.accounts import escrow_ref
from panamia.ledger.journal import accounts_t, entries_t, postings_t
from panamia.ledger.providers import manual
from panamia.ledger.schemas import CurrencyTotals, Hold, ManualMoney, MyMoney, Posting, Recorded
from panamia.resources import Resources

LATEST = 20
Direction = Literal["deposit", "payout"]


async def member_id(db: AsyncSession, email: str) -> str:
    user_id = (await db.execute(
        select(User.id).where(func.lower(User.email) == normalize_email(email)))).scalar()
    if user_id is None:
        raise NotFound(f"No member has the email address {email}.")
    return user_id


async def record_manual(resources: Resources, direction: Direction, body: ManualMoney,
                        recorded_by: str | None) -> Recorded:
    """One transaction: the member found by email, the entry posted once per reference."""
    amount = money.checked(body.amount, body.currency)
    record = manual.deposit if direction == "deposit" else manual.payout
    try:
        async with resources.db.begin() as db:
            user_id = await member_id(db, body.email)
            posted = await record(db, user_id=user_id, amount=amount, currency=body.currency,
                                  reference=body.reference, recorded_by=recorded_by)
            available = await journal.balance(db, accounts.available(user_id), body.currency)
    except DBAPIError as error:
        raise journal.refusal(error) or error from error
    return Recorded(posted=posted, user_id=user_id, direction=direction, amount=amount,
                    currency=body.currency, reference=body.reference, available=available)


def _account_label(kind: str, owner: str) -> str:
    if kind != "escrow":
        return kind
    ref_type, ref_id = escrow_ref(accounts.Account(kind, owner))
    return f"held for {ref_type} {ref_id}"


async def my_money(resources: Resources, user_id: str) -> MyMoney:
    """Available and held money per currency, each hold, and the latest postings on them."""
    mine = ((accounts_t.c.kind == "available") & (accounts_t.c.owner == user_id)) | (
        (accounts_t.c.kind == "escrow") & (accounts_t.c.held_for == user_id))
    async with resources.reads() as db:
        rows = (await db.execute(
            select(accounts_t.c.kind, accounts_t.c.owner, accounts_t.c.currency,
                   accounts_t.c.balance, accounts_t.c.created_at)
            .where(mine).order_by(accounts_t.c.created_at)
        )).all()
        latest = (await db.execute(
            select(entries_t.c.created_at, entries_t.c.kind, accounts_t.c.kind.label("account"),
                   accounts_t.c.owner, postings_t.c.amount, accounts_t.c.currency)
            .join_from(postings_t, accounts_t).join(entries_t)
            .where(mine).order_by(postings_t.c.id.desc()).limit(LATEST)
        )).all()
    totals: dict[str, dict[str, Decimal]] = {}
    holds = []
    for row in rows:
        per = totals.setdefault(row.currency, {"available": Decimal(0), "held": Decimal(0)})
        if row.kind == "available":
            per["available"] += row.balance
        elif row.balance:
            per["held"] += row.balance
            ref_type, ref_id = escrow_ref(accounts.Account(row.kind, row.owner))
            holds.append(Hold(ref_type=ref_type, ref_id=ref_id, currency=row.currency,
                              amount=row.balance, since=row.created_at))
    return MyMoney(
        totals=[CurrencyTotals(currency=c, **t) for c, t in sorted(totals.items())],
        holds=holds,
        postings=[Posting(at=p.created_at, kind=p.kind, account=_account_label(p.account, p.owner),
                          amount=p.amount, currency=p.currency) for p in latest],
    )
