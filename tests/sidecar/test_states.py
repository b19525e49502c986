"""A state machine declared on a throw-away table of loans, taken on a real database."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from panamia.errors import Conflict, Forbidden, NotFound
from panamia.sidecar.states import ANY_PARTY, SYSTEM, Guard, StateMachine, Transition
from tests.profiles.factories import principal

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
loans = sa.Table(
    "loans", sa.MetaData(),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("lender_id", sa.Text, nullable=False),
    sa.Column("borrower_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("lent_at", sa.DateTime(timezone=True)),
    sa.Column("withdrawn_by", sa.Text),
)
STEPS = (
    Transition("lend", frozenset({"asked"}), "lent", "lender", stamp="lent_at",
               notice="Accept"),
    Transition("withdraw", frozenset({"asked", "lent"}), "withdrawn", ANY_PARTY,
               timing="before_due", by="withdrawn_by"),
    Transition("lapse", frozenset({"asked"}), "lapsed", SYSTEM),
)
BEFORE_DUE = Guard(lambda now: loans.c.due_on > sa.cast(now, sa.Date),
                   lambda loan: f" and was due on {loan.due_on}.", when="before its due date")
LOANS = StateMachine(loans, "loan", {t.name: t for t in STEPS},
                     parties={"borrower": "borrower_id", "lender": "lender_id"},
                     guards={"before_due": BEFORE_DUE})
LENDER, BORROWER = principal("lender"), principal("borrower")


@pytest.fixture
async def db(resources, connection):
    await connection.run_sync(loans.metadata.create_all)
    await connection.execute(loans.insert(), [
        {"id": "asked", "lender_id": "lender", "borrower_id": "borrower", "status": "asked",
         "due_on": date(2027, 3, 10)},
        {"id": "overdue", "lender_id": "lender", "borrower_id": "borrower", "status": "lent",
         "due_on": date(2027, 2, 1)},
    ])
    return resources.db


async def take(db, name: str, loan_id: str, user) -> sa.Row:
    async with db.begin() as session:
        return await LOANS.take(session, name, loan_id, user, NOW, returning=[loans])


class TestTaken:
    async def test_the_update_sets_status_stamp_and_who(self, db):
        lent = await take(db, "lend", "asked", LENDER)
        assert (lent.status, lent.lent_at, lent.updated_at) == ("lent", NOW, NOW)

        withdrawn = await take(db, "withdraw", "asked", BORROWER)
        assert (withdrawn.status, withdrawn.withdrawn_by) == ("withdrawn", "borrower")

    async def test_a_system_transition_needs_no_user(self, db):
        assert (await take(db, "lapse", "asked", None)).status == "lapsed"


class TestRefused:
    async def test_unknown_or_not_yours_to_see_is_404(self, db):
        for loan_id, user in (("nope", LENDER), ("asked", principal("stranger"))):
            with pytest.raises(NotFound, match="^No loan with this id is visible to you.$"):
                await take(db, "lend", loan_id, user)

    async def test_the_wrong_party_or_an_admin_is_403(self, db):
        for user in (BORROWER, principal("admin", is_admin=True)):
            with pytest.raises(Forbidden, match="^Only the lender may lend this loan.$"):
                await take(db, "lend", "asked", user)

    async def test_another_status_is_409_naming_it(self, db):
        await take(db, "lend", "asked", LENDER)
        with pytest.raises(Conflict, match="^The loan is lent; only a asked loan can be lent.$"):
            await take(db, "lend", "asked", LENDER)

    async def test_a_failed_guard_is_409_saying_why(self, db):
        with pytest.raises(Conflict, match="^The loan is lent and was due on 2027-02-01.$"):
            await take(db, "withdraw", "overdue", BORROWER)

        async with db.begin() as session:
            status = await session.scalar(sa.select(loans.c.status).where(loans.c.id == "overdue"))
        assert status == "lent"


def test_the_routes_responses_come_from_the_declaration():
    described = {error.status: text for error, text in LOANS.responses("withdraw")}
    assert described == {
        403: "Only its borrower or lender may withdraw it; or CSRF token missing",
        404: "No such loan, or not one of yours",
        409: "Not asked or lent, or not before its due date; names its status",
    }


@pytest.mark.parametrize("step", [
    Transition("lend", frozenset({"asked"}), "lent", "neighbour"),
    Transition("lend", frozenset({"asked"}), "lent", "lender", timing="someday"),
    Transition("lend", frozenset({"asked"}), "lent", "lender", stamp="lent_on"),
])
def test_a_declaration_naming_what_does_not_exist_fails_at_once(step):
    with pytest.raises(AssertionError):
        StateMachine(loans, "loan", {"lend": step}, parties={"lender": "lender_id"})
