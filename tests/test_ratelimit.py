"""Fixed-window counters in PostgreSQL: refused past the limit, reset by the next window,
exact under concurrent hits."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from panamia.errors import TooManyRequests
from panamia.identity import ratelimit
from panamia.identity.ratelimit import Limit

NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
THREE_A_MINUTE = Limit(3, timedelta(minutes=1))


async def hit(resources, key: str, at: datetime, limit: Limit = THREE_A_MINUTE) -> None:
    async with resources.db.begin() as session:
        await ratelimit.hit(session, key, limit, at)


class TestFixedWindow:
    async def test_past_the_limit_it_refuses_until_the_window_ends(self, resources):
        at = NOON + timedelta(seconds=20)
        for _ in range(3):
            await hit(resources, "k", at)
        with pytest.raises(TooManyRequests) as refused:
            await hit(resources, "k", NOON + timedelta(seconds=59))
        assert refused.value.headers == {"Retry-After": "1"}
        with pytest.raises(TooManyRequests) as refused:
            await hit(resources, "k", at)
        assert refused.value.retry_after == 40
        assert refused.value.detail == "Too many requests. Try again in 1 minute."
        await hit(resources, "k", NOON + timedelta(minutes=1))

    async def test_keys_are_counted_apart(self, resources):
        for _ in range(3):
            await hit(resources, "ana", NOON)
        await hit(resources, "ben", NOON)
        with pytest.raises(TooManyRequests):
            await hit(resources, "ana", NOON)

    async def test_concurrent_hits_on_many_connections_never_pass_the_limit(
        self, committed_identity
    ):
        key, now = f"storm-{uuid.uuid4().hex}", datetime.now(UTC)

        async def one() -> bool:
            try:
                await hit(committed_identity, key, now, Limit(5, timedelta(hours=1)))
            except TooManyRequests:
                return False
            return True

        admitted = await asyncio.gather(*(one() for _ in range(30)))
        assert admitted.count(True) == 5


def client_of(host: str) -> str:
    return ratelimit.client_address(Request({"type": "http", "client": (host, 50000)}))


class TestClientAddress:
    def test_clients_in_one_ipv6_64_share_a_limit(self):
        assert client_of("2001:db8:1:2::5") == client_of("2001:db8:1:2:ffff::9")
        assert client_of("2001:db8:1:2::5") != client_of("2001:db8:1:3::5")

    def test_ipv4_clients_of_a_dual_stack_socket_are_told_apart(self):
        assert client_of("::ffff:203.0.113.9") == client_of("203.0.113.9") == "203.0.113.9"
        assert client_of("::ffff:203.0.113.9") != client_of("::ffff:198.51.100.1")
