"""Notices for the other party, queued in the caller's transaction."""

import pytest
from sqlalchemy import select

from panamia.errors import Conflict
from panamia.notifications.schemas import ActivityObject
from panamia.outbox.models import OutboxEvent
from panamia.sidecar.notices import tell_other_party

KETTLE = ActivityObject(type="Booking", id="loan1", summary="A kettle for a week")


async def queued(resources) -> list[tuple[str, str | None, str]]:
    async with resources.db.begin() as session:
        payloads = (await session.execute(select(OutboxEvent.payload))).scalars()
        return [(p["type"], p["actorId"], p["targetId"]) for p in payloads]


async def test_the_party_who_did_not_act_is_told(resources):
    async with resources.db.begin() as session:
        await tell_other_party(session, "Accept", actor_id="lender",
                               parties=("borrower", "lender"), about=KETTLE)
        await tell_other_party(session, "Update", actor_id="borrower",
                               parties=("borrower", "lender"), about=KETTLE)

    assert await queued(resources) == [("Accept", "lender", "borrower"),
                                       ("Update", "borrower", "lender")]


async def test_with_no_actor_the_first_party_is_told(resources):
    async with resources.db.begin() as session:
        await tell_other_party(session, "Update", actor_id=None,
                               parties=("borrower", "lender"), about=KETTLE)

    assert await queued(resources) == [("Update", None, "borrower")]


async def test_nothing_is_told_when_the_transaction_rolls_back(resources):
    with pytest.raises(Conflict):
        async with resources.db.begin() as session:
            await tell_other_party(session, "Accept", actor_id="lender",
                                   parties=("borrower", "lender"), about=KETTLE)
            raise Conflict("The kettle broke.")

    assert await queued(resources) == []
