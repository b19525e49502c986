"""`ensure_profile` races itself and the deletion of the account, and a profile never
outlives its account."""

import asyncio

import pytest
from sqlalchemy import delete, text

from panamia.db.postgres import create_engine
from panamia.errors import Unauthorized
from panamia.identity.account import delete_account
from panamia.identity.models import User
from panamia.outbox import relay
from panamia.profiles import service
from tests.identity.factories import create_user
from tests.profiles.factories import principal

WAITING_FOR_A_LOCK = text(
    "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
    "WHERE NOT granted AND datname = current_database()"
)


async def test_a_hundred_concurrent_calls_create_one_profile(committed):
    user_id = await create_user(committed)
    profiles = await asyncio.gather(
        *(service.ensure_profile(committed, user_id) for _ in range(100))
    )
    assert len({p["_id"] for p in profiles}) == 1
    assert await committed.mongo.profiles.count_documents({"userId": user_id}) == 1


async def test_a_request_that_began_before_the_deletion_does_not_bring_the_profile_back(
    resources,
):
    """The request read its session; then the account was deleted and the relay removed the
    profile; then the request reaches its profile."""
    user_id = await create_user(resources)
    signed_in = principal(user_id)
    await service.own_profile(resources, signed_in)
    await delete_account(resources, user_id)
    await relay.drain(resources)
    assert await resources.mongo.profiles.count_documents({"userId": user_id}) == 0

    with pytest.raises(Unauthorized):
        await service.own_profile(resources, signed_in)
    assert await resources.mongo.profiles.count_documents({"userId": user_id}) == 0


async def test_creating_waits_for_a_deletion_in_progress_then_creates_nothing(
    committed, committed_settings
):
    user_id = await create_user(committed)
    other_client = create_engine(committed_settings.postgres_url, "tests")
    try:
        async with other_client.connect() as deleting:
            await deleting.execute(delete(User).where(User.id == user_id))
            creating = asyncio.create_task(service.ensure_profile(committed, user_id))
            for _ in range(100):
                assert not creating.done(), "created a profile while the account was deleted"
                if await deleting.scalar(WAITING_FOR_A_LOCK):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("ensure_profile did not wait for the deletion")
            await deleting.commit()
        with pytest.raises(Unauthorized):
            await creating
    finally:
        await other_client.dispose()
    assert await committed.mongo.profiles.count_documents({"userId": user_id}) == 0
