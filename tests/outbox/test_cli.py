import json

from panamia.notifications.documents import COLLECTION
from panamia.outbox import service
from tests.fixtures.cli import invoke
from tests.identity.factories import create_user
from tests.notifications.factories import like, notify


async def test_status_shows_the_backlog_and_relay_once_drains_it(committed, cli_env):
    ana, ben = await create_user(committed), await create_user(committed)
    first = await notify(committed, like(ana, ben))
    await notify(committed, like(ben, ana))

    status = await invoke("outbox", "status")
    assert status.exit_code == 0, status.output
    assert "undelivered: 2" in status.output and first in status.output
    backlog = json.loads((await invoke("outbox", "status", "--json")).stdout)
    assert backlog["undelivered"] == 2 and backlog["byTopic"] == {"notification.create": 2}
    assert backlog["oldest"]["id"] == first and backlog["oldest"]["attempts"] == 0

    relayed = await invoke("outbox", "relay", "--once")
    assert relayed.exit_code == 0, relayed.output
    assert "delivered 2" in relayed.output
    assert await committed.mongo[COLLECTION].count_documents({}) == 2
    backlog = json.loads((await invoke("outbox", "status", "--json")).stdout)
    assert (backlog["undelivered"], backlog["oldest"]) == (0, None)


async def test_relay_once_exits_1_when_events_fail(committed, cli_env):
    async with committed.db.begin() as db:
        await service.enqueue(db, "test.unknown", {})
    result = await invoke("outbox", "relay", "--once")
    assert result.exit_code == 1
    assert "failed 1" in result.output
    assert "failed at least once: 1" in (await invoke("outbox", "status")).output
