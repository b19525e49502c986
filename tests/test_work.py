"""`panamia work` as an operator runs it: a real process beside the served services, logging
as `panamia serve` does, and stopping cleanly on SIGTERM."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from panamia.work import background_tasks
from tests.identity.factories import create_user
from tests.notifications.factories import like, notify
from tests.test_settings import CONFIG_NAMES


def json_lines(log: Path) -> list[dict]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


async def test_with_json_logs_a_delivery_is_one_json_line(committed, committed_settings,
                                                            tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_NAMES)}
    env.update(PANAMIA_ENV="test", PANAMIA_LOG_FORMAT="json",
               POSTGRES_URL=committed_settings.postgres_url,
               MONGODB_URL=committed_settings.mongodb_url,
               MONGODB_DB=committed_settings.mongodb_db, AUTH_SECRET=committed_settings.auth_secret)
    log = tmp_path / "work.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "panamia", "work"], env=env,
                                   cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT)
    try:
        ana, ben = await create_user(committed), await create_user(committed)
        await notify(committed, like(ana, ben))
        delivered = []
        for _ in range(150):
            delivered = [line for line in json_lines(log)
                         if line.get("message", "").endswith("(notification.create) delivered")]
            if delivered:
                break
            await asyncio.sleep(0.1)
        assert delivered, log.read_text()
        [line] = delivered
        assert line["level"] == "INFO" and line["logger"] == "panamia.outbox.relay"
        assert line["process"] == process.pid

        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0, log.read_text()
        assert "stopped" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_every_background_task_returns_once_stop_is_set(committed):
    tasks = background_tasks()
    assert {f"{task.__module__}.{task.__name__}" for task in tasks} >= {
        "panamia.outbox.relay.run_forever", "panamia.purge.run_forever",
        "panamia.pets.bookings.expiry.run_forever", "panamia.rentals.expiry.run_forever",
        "panamia.exchange.sweep.run_forever"}
    stop = asyncio.Event()
    running = [asyncio.create_task(task(committed, stop=stop)) for task in tasks]
    await asyncio.sleep(0.5)
    stop.set()
    done, pending = await asyncio.wait(running, timeout=10)
    assert not pending
    assert [task.exception() for task in done] == [None] * len(tasks)
