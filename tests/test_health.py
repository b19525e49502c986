from dataclasses import replace

from panamia.apps import main, pets
from panamia.db.mongo import create_client
from tests.fixtures.http import asgi_client
from tests.fixtures.servers import free_port


async def test_both_services_report_both_databases(settings, resources):
    for module in (main, pets):
        async with asgi_client(module.create_app(settings, resources)) as client:
            response = await client.get("/health")
        assert (response.status_code, response.json()) == (200, {"postgres": "ok", "mongo": "ok"})


async def test_a_database_that_is_down_is_named_with_503(settings, resources):
    unreachable = create_client(f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300",
                                "tests")
    broken = replace(resources, mongo=unreachable["panamia"])
    async with asgi_client(pets.create_app(settings, broken)) as client:
        response = await client.get("/health")
    await unreachable.close()
    assert response.status_code == 503
    assert response.json()["postgres"] == "ok"
    assert response.json()["mongo"].startswith("down")
