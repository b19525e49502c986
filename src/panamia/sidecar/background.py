"""The loop of a sidecar's background task: one round every `interval` seconds until `stop`
is set, so `panamia work` and a service's shutdown stop it after the round in hand."""

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def repeat(round_once: Callable[[], Awaitable[None]], *, interval: float,
                 stop: asyncio.Event | None, logger: logging.Logger, name: str) -> None:
    """Run `round_once` until `stop` is set or the task is cancelled; a failed round costs a
    warning and the next one retries, so the task keeps going through outages."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await round_once()
        except Exception as exc:  # noqa: BLE001 - the next round retries
            logger.warning("%s failed (%s); retrying in %gs", name, type(exc).__name__, interval)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
