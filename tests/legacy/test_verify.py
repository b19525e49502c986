"""`verify` passes after a complete move and names each kind of mismatch when there is one."""

import pytest
from bson import ObjectId
from sqlalchemy import delete, update

from panamia.identity.models import Account, User
from panamia.legacy import refs, verify
from panamia.legacy.auth import run_auth
from panamia.legacy.models import LegacyIdMap
from panamia.legacy.progress import Move
from tests.identity.factories import create_user
from tests.legacy.factories import Messy, account_doc, seed_messy

NATIVE_EMAIL = "native@example.org"


@pytest.fixture
async def moved(resources) -> Messy:
    """The messy legacy data through phase 2 and phase 3, with content referencing it."""
    await create_user(resources, email=NATIVE_EMAIL, screenname="taken_name")
    messy = await seed_messy(resources.mongo, native_email=NATIVE_EMAIL,
                             taken_screenname="taken_name")
    await run_auth(Move(db=resources.db, mongo=resources.mongo,
                        secret=resources.settings.secret, batch_size=4))
    ana, bo = messy.users["ana"]["_id"], messy.users["string_id"]["_id"]
    await resources.mongo.profiles.insert_many([{"userId": ana}, {"userId": bo}])
    await resources.mongo.articles.insert_one(
        {"slug": "x", "authorId": str(ana), "coAuthorIds": [bo], "coAuthors": [{"userId": ana}]})
    await resources.mongo.notifications.insert_one({"targetId": ana, "actorId": None})
    await refs.run_refs(resources.mongo, resources.db, refs=["articles.coAuthors.userId"])
    return messy


async def check(resources, **kwargs) -> verify.Report:
    return await verify.verify(resources.mongo, resources.db,
                               secret=resources.settings.secret, sample=100, **kwargs)


def failing(report: verify.Report) -> dict[str, list[str]]:
    return {c.name: c.problems for c in report.checks if not c.ok}


async def test_a_complete_move_passes(resources, moved):
    report = await check(resources)

    assert report.ok, failing(report)
    by_name = {c.name: c for c in report.checks}
    users = by_name["legacy users mapped"].figures
    assert users["users"] == len(moved.users)
    assert users["rejected"] > 0 and users["mapped"] + users["rejected"] == users["users"]
    assert by_name["references articles.coAuthors.userId"].figures["values"] == 1
    assert by_name["sample nextauth_sessions"].figures["compared"] > 0
    assert report.as_json()["ok"] is True


async def test_references_left_unmigrated_fail(resources, moved):
    stray = ObjectId()
    await resources.mongo.notifications.insert_one({"_id": 7, "targetId": stray,
                                                    "actorId": "no-such-user"})

    problems = failing(await check(resources))

    assert problems["references notifications.targetId"] == [
        f"notifications 7: targetId holds a legacy id: {stray}"]
    assert problems["references notifications.actorId"] == [
        "notifications 7: actorId holds no user's id: no-such-user"]


async def test_a_refs_step_that_never_ran_fails(resources, moved):
    report = await check(resources, refs=["articles.reviews.userId"])
    assert failing(report)["steps finished"] == ["refs:articles.reviews.userId never ran"]


async def test_a_user_neither_mapped_nor_rejected_fails(resources, moved):
    ana = moved.users["ana"]["_id"]
    async with resources.db.begin() as db:
        await db.execute(delete(LegacyIdMap).where(LegacyIdMap.kind == "user",
                                                   LegacyIdMap.legacy_id == str(ana)))

    problems = failing(await check(resources))

    assert problems["legacy users mapped"] == [
        f'nextauth_users {{"$oid": "{ana}"}} is neither mapped to a user nor rejected']
    assert problems["counts nextauth_users"] == ["imported 6, but the tables hold 5"]


async def test_a_field_that_differs_fails(resources, moved):
    async with resources.db.begin() as db:
        await db.execute(update(User).where(User.name == "Ana").values(name="Anna"))
        await db.execute(update(Account).where(Account.provider_account_id == "gh-ana")
                         .values(access_token="changed"))

    problems = failing(await check(resources))

    [name] = problems["sample nextauth_users"]
    assert name.endswith("name is 'Anna', legacy 'Ana'")
    [token] = problems["sample nextauth_accounts"]
    assert token.endswith("access_token differs")


async def test_a_legacy_record_added_after_the_run_fails(resources, moved):
    await resources.mongo.nextauth_accounts.insert_one(account_doc(moved.users["ana"]["_id"]))

    problems = failing(await check(resources))

    read = len(moved.accounts)
    assert f"read {read}, but nextauth_accounts holds {read + 1}" in \
        problems["counts nextauth_accounts"]
