"""THE STORM: two sidecar processes (`panamia serve pets`) on one database, signed-in clients
sending random, overlapping booking requests at once, split across both.

Afterwards no two active bookings of a listing share a night, every request got 201 or 409
(nothing else), and every 409 is explained by a booking that holds one of its nights.
"""

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from tests.fixtures.served import browser_headers, served
from tests.identity.factories import create_user
from tests.pets.bookings.factories import FIRST_NIGHT, body
from tests.pets.factories import create_listing

LISTINGS, OWNERS, WINDOW, LONGEST = 4, 16, 40, 7

# Each request: (listing, first night as days after FIRST_NIGHT, nights, owner).
REQUESTS = st.lists(
    st.tuples(st.integers(0, LISTINGS - 1), st.integers(0, WINDOW), st.integers(1, LONGEST),
              st.integers(0, OWNERS - 1)),
    min_size=90, max_size=110,
)


@pytest.fixture
async def sidecars(tmp_path, committed, committed_settings):
    """Two served sidecars; yields their base URLs, stops them and checks their logs."""
    async with served("pets", committed_settings, tmp_path) as urls:
        yield urls


@pytest.fixture
async def crowd(committed):
    """Listings and signed-in owners: (listing ids, per owner the headers a browser sends)."""
    listings = [(await create_listing(committed)).id for _ in range(LISTINGS)]
    owners = []
    for _ in range(OWNERS):
        owners.append(await browser_headers(committed, await create_user(committed)))
    return listings, owners


OVERLAPPING_ACTIVE = text("""
    SELECT count(*) FROM bookings a JOIN bookings b
      ON a.listing_id = b.listing_id AND a.id < b.id
     AND daterange(a.start_date, a.end_date) && daterange(b.start_date, b.end_date)
     WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
""")
HOLDER = text("""
    SELECT count(*) FROM bookings WHERE listing_id = :listing AND status = 'pending'
       AND daterange(start_date, end_date) && daterange(:start, :end)
""")


@settings(max_examples=5, deadline=None, database=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests=REQUESTS)
async def test_storm(sidecars, crowd, committed, requests):
    listings, owners = crowd
    clients = [httpx.AsyncClient(base_url=url, timeout=60,
                                 limits=httpx.Limits(max_connections=32)) for url in sidecars]
    try:
        calls = [
            clients[i % 2].post("/bookings", headers=owners[owner], json=body(
                listings[listing], FIRST_NIGHT + timedelta(days=offset), nights))
            for i, (listing, offset, nights, owner) in enumerate(requests)
        ]
        answers = await asyncio.gather(*calls)
    finally:
        for client in clients:
            await client.aclose()

    codes = Counter(a.status_code for a in answers)
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    assert codes[201] + codes[409] == len(requests)
    async with committed.reads() as db:
        assert (await db.execute(OVERLAPPING_ACTIVE)).scalar_one() == 0
        assert (await db.execute(text("SELECT count(*) FROM bookings"))).scalar_one() == codes[201]
        for answer, (listing, offset, nights, _) in zip(answers, requests):
            if answer.status_code == 409:
                start = FIRST_NIGHT + timedelta(days=offset)
                assert (await db.execute(HOLDER, {
                    "listing": listings[listing], "start": start,
                    "end": start + timedelta(days=nights)})).scalar_one() >= 1
        await db.execute(text("DELETE FROM bookings"))
