"""Fixed-window rate limits counted in PostgreSQL, so every worker and replica shares them.

`hit(session, key, limit, now)` counts one hit in the window that holds `now` with a single
`INSERT … ON CONFLICT DO UPDATE … WHERE hits < allowed RETURNING`: concurrent hits queue on
the row, and no window ever counts more than `allowed`. A full window returns no row and
raises `TooManyRequests` with the seconds until it ends. A refused hit is not counted, and
a hit made inside a transaction that rolls back is not counted either.

Windows start at whole multiples of their length since the Unix epoch, so every process
agrees on them. `panamia.purge` deletes windows that started more than `LONGEST_WINDOW` ago.

PostgreSQL rather than the `limits` library: `limits` has no PostgreSQL storage, and its
async MongoDB storage needs Motor and a client of its own beside PyMongo's async one.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import TooManyRequests
from panamia.identity.models import RateLimitWindow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LONGEST_WINDOW = timedelta(days=1)
windows = RateLimitWindow.__table__


@dataclass(frozen=True)
class Limit:
    allowed: int
    per: timedelta

    def __post_init__(self) -> None:
        if self.allowed < 1 or not timedelta(seconds=1) <= self.per <= LONGEST_WINDOW:
            raise ValueError(f"a limit allows at least one hit per 1 s to {LONGEST_WINDOW}")


def window_start(per: timedelta, now: datetime) -> datetime:
    return now - (now - EPOCH) % per


async def hit(session: AsyncSession, key: str, limit: Limit, now: datetime, *,
              refusal: str = "Too many requests.") -> None:
    """Count one hit for `key`, or raise `TooManyRequests` (`refusal` plus when to retry)."""
    start = window_start(limit.per, now)
    counted = await session.execute(
        insert(windows).values(key=key, window_start=start, hits=1)
        .on_conflict_do_update(
            index_elements=[windows.c.key, windows.c.window_start],
            set_={"hits": windows.c.hits + 1},
            where=windows.c.hits < limit.allowed,
        )
        .returning(windows.c.hits)
    )
    if counted.first() is None:
        retry_after = math.ceil((start + limit.per - now).total_seconds())
        raise TooManyRequests(refusal, retry_after=max(retry_after, 1))


def client_address(request: Request) -> str:
    """What a per-client limit counts: the client's IP address as uvicorn reports it (the
    address the trusted proxy forwarded, under `panamia serve`), an IPv6 client by its /64,
    since one subscriber is usually given a whole /64."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:  # an IPv4 client of a dual-stack socket
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))
