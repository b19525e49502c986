"""Each service relays in the background while it runs."""

import asyncio

import pytest

from panamia.apps import main, pets
from panamia.notifications.documents import COLLECTION
from tests.identity.factories import create_user
from tests.notifications.factories import like, notify


@pytest.mark.parametrize("service", [main, pets], ids=["main", "pets"])
async def test_a_running_service_delivers_notifications(service, committed, committed_settings):
    ana, ben = await create_user(committed), await create_user(committed)
    app = service.create_app(committed_settings, committed)
    async with app.router.lifespan_context(app):
        event_id = await notify(committed, like(ana, ben))
        for _ in range(50):
            if await committed.mongo[COLLECTION].find_one({"_id": event_id}):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the service's relay did not deliver within 5 s")
