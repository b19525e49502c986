"""Ana has lent Marco her ladder: `panamia demo` seeds it after the demo people exist."""

from sqlalchemy.dialects.postgresql import insert

from lending.models import Loan
from panamia import demo
from panamia.resources import Resources


async def seed(resources: Resources) -> None:
    async with resources.db.begin() as session:
        await session.execute(insert(Loan).values(
            id="demo-loan-ladder", lender_id=demo.user_id("ana"),
            borrower_id=demo.user_id("marco"), thing="A ladder", status="lent",
        ).on_conflict_do_nothing())
