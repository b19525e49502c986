"""Lend a thing, take it back, see one's loans: each use case one transaction."""

from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy import insert, or_, select
from sqlalchemy.exc import DBAPIError

from lending.models import LOANS, Loan
from panamia.db.postgres import violation
from panamia.errors import Invalid
from panamia.identity.dependencies import Principal
from panamia.resources import Resources
from panamia.schemas import Schema
from panamia.sidecar import idempotency

FOREIGN_KEY_VIOLATION = "23503"
loans = Loan.__table__


class LoanCreate(Schema):
    borrower_id: str = Field(min_length=1, max_length=32)
    thing: str = Field(min_length=1, max_length=200)


def view(row) -> dict:
    return {"id": row.id, "thing": row.thing, "lenderId": row.lender_id,
            "borrowerId": row.borrower_id, "status": row.status,
            "returnedAt": row.returned_at.isoformat() if row.returned_at else None}


async def lend(resources: Resources, user: Principal, body: LoanCreate,
               key: str | None) -> idempotency.Answer:
    """201 with the loan; the same `Idempotency-Key` again gives the first answer back."""
    if body.borrower_id == user.id:
        raise Invalid("Lend to another member.", fields=["borrowerId"])
    claim = key and idempotency.Key(user.id, "lending.loans", key, idempotency.fingerprint(
        "POST /loans", body.model_dump(mode="json")))
    try:
        async with resources.db.begin() as session:
            if claim and (stored := await idempotency.claim(session, claim, datetime.now(UTC))):
                return stored

            async def attempt() -> idempotency.Answer:
                row = (await session.execute(insert(loans).values(
                    lender_id=user.id, borrower_id=body.borrower_id, thing=body.thing,
                ).returning(*loans.c))).one()
                return idempotency.Answer(201, view(row))

            return await idempotency.kept(session, claim, attempt)
    except DBAPIError as exc:
        if violation(exc)[0] != FOREIGN_KEY_VIOLATION:
            raise
        raise Invalid("No member has this id.", fields=["borrowerId"]) from None


async def take_back(resources: Resources, user: Principal, loan_id: str) -> dict:
    """The lender says the thing came back; 404, 403 or 409 (naming the status) otherwise."""
    async with resources.db.begin() as session:
        row = await LOANS.take(session, "return", loan_id, user, datetime.now(UTC),
                               returning=list(loans.c))
    return view(row)


async def loans_of(resources: Resources, user: Principal) -> list[dict]:
    async with resources.reads() as session:
        rows = await session.execute(
            select(loans).where(or_(loans.c.lender_id == user.id, loans.c.borrower_id == user.id))
            .order_by(loans.c.created_at.desc()).limit(100))
    return [view(row) for row in rows]
