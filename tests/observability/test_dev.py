"""`panamia dev` keeps each service's series apart, in a directory of its own emptied at start."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from panamia.sidecar import registry
from tests.fixtures.database import empty_database
from tests.fixtures.servers import free_port
from tests.observability.series import METRICS_TOKEN, scrape, value
from tests.test_settings import CONFIG_NAMES

START_TIMEOUT = 90


@pytest.fixture
async def dev_database_url() -> AsyncIterator[str]:
    """An empty database: `panamia dev` migrates it itself."""
    async with empty_database("panamia_dev_metrics") as url:
        yield url


@pytest.fixture
def dev(tmp_path, dev_database_url, server_urls):
    """`panamia dev` on the test servers (no embedded ones), every service on a free port;
    yields (ports by service, data dir)."""
    data_dir = tmp_path / "data"
    stale = data_dir / "metrics" / "main" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    ports = {"main": free_port()} | {s.name: free_port() for s in registry.discover()}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(CONFIG_NAMES) and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PANAMIA_DATA_DIR=str(data_dir), POSTGRES_URL=dev_database_url,
               MONGODB_URL=server_urls[1], MONGODB_DB=f"dev_{uuid.uuid4().hex[:12]}",
               METRICS_TOKEN=METRICS_TOKEN)
    output = tmp_path / "dev.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "panamia", "dev", "--no-demo",
             *(f"--{name}-port={port}" for name, port in ports.items())],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Press Ctrl-C to stop." not in output.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"panamia dev did not start:\n{output.read_text()[-3000:]}")
            time.sleep(0.2)
        yield ports, data_dir
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def test_each_service_answers_for_its_own_requests_only(dev):
    ports, data_dir = dev
    assert not (data_dir / "metrics" / "main" / "counter_1.db").exists()
    health = {"route": "/health", "method": "GET", "status": "200"}

    async with (httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['main']}") as main,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['pets']}") as pets):
        for _ in range(3):
            assert (await pets.get("/health")).status_code == 200
        assert (await main.get("/health")).status_code == 200
        assert (await main.get("/metrics")).status_code == 404
        from_main, from_pets = await scrape(main), await scrape(pets)

    assert value(from_main, "panamia_http_requests_total", **health) == 1
    assert value(from_pets, "panamia_http_requests_total", **health) == 3
    for name in ports:
        assert list((data_dir / "metrics" / name).glob("counter_*.db")), name
