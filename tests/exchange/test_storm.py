"""THE AUCTION STORM: 64 signed-in bidders on one auction, their bids sent at once and split
across two `panamia serve exchange` processes on one database of its own.

Afterwards every bid got 201 or 409 and nothing else; the accepted bids climb by at least the
increment; the auction's high bid is the highest accepted one; once it ends exactly one bid
has won and become the transaction, every losing bid's money is back with its bidder, and
the real `panamia ledger check` finds the escrow accounts holding exactly what they should.
"""

import asyncio
import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from panamia.exchange import sweep
from panamia.resources import Resources
from tests.exchange.factories import auction, available, deposit
from tests.fixtures.served import browser_headers, environment, served
from tests.identity.factories import create_user

BIDDERS, BIDS_EACH, MONEY = 64, 3, "1000.00"
STEP = Decimal("5.00")


@pytest.fixture
async def exchanges(tmp_path, own_database):
    """Two served exchanges; yields their base URLs, stops them and checks their logs."""
    async with served("exchange", own_database.settings, tmp_path) as urls:
        yield urls


def ledger_check(resources: Resources, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "panamia", "ledger", "check"], capture_output=True, text=True,
        env=environment(resources.settings, tmp_path / "cli"), cwd=tmp_path, timeout=120)


async def test_auction_storm(exchanges, own_database, tmp_path):
    resources = own_database
    seller = await create_user(resources)
    bidders = [await create_user(resources) for _ in range(BIDDERS)]
    for bidder in bidders:
        await deposit(resources, bidder, MONEY)
    seller_headers = await browser_headers(resources, seller)
    headers = [await browser_headers(resources, bidder) for bidder in bidders]
    seed = random.randrange(1 << 30)
    draw = random.Random(seed)
    plan = [(b, Decimal(draw.randrange(10, 80)) * STEP)
            for b in range(BIDDERS) for _ in range(BIDS_EACH)]
    draw.shuffle(plan)

    clients = [httpx.AsyncClient(base_url=url, timeout=120,
                                 limits=httpx.Limits(max_connections=32)) for url in exchanges]
    try:
        made = await clients[0].post("/listings", headers=seller_headers, json=auction(
            startPrice="50.00", minIncrement=str(STEP)))
        assert made.status_code == 201, made.text
        item = made.json()["id"]
        answers = await asyncio.gather(*(
            clients[i % 2].post(f"/listings/{item}/bids", headers=headers[bidder],
                                json={"amount": str(amount)})
            for i, (bidder, amount) in enumerate(plan)))
    finally:
        for client in clients:
            await client.aclose()

    codes = Counter(a.status_code for a in answers)
    assert set(codes) <= {201, 409}, (seed, [a.text for a in answers if a.status_code >= 500])
    accepted = [(plan[i][0], plan[i][1]) for i, a in enumerate(answers) if a.status_code == 201]
    assert accepted, seed
    best = max(amount for _, amount in accepted)

    async with resources.reads() as db:
        amounts = [row.amount for row in await db.execute(text(
            "SELECT amount FROM exchange_bids WHERE listing_id = :id ORDER BY created_at"),
            {"id": item})]
        listing = (await db.execute(text(
            "SELECT high_bid, high_bidder_id, bid_count FROM exchange_listings WHERE id = :id"),
            {"id": item})).one()
    assert len(amounts) == codes[201] == listing.bid_count
    assert all(later >= earlier + STEP for earlier, later in zip(amounts, amounts[1:])), seed
    assert listing.high_bid == best == amounts[-1]

    async with resources.db.begin() as db:
        await db.execute(text("UPDATE exchange_listings SET ends_at = now() - interval '1 s' "
                              "WHERE id = :id"), {"id": item})
    await sweep.sweep(resources, datetime.now(UTC) + timedelta(seconds=1))

    async with resources.reads() as db:
        statuses = Counter(row.status for row in await db.execute(text(
            "SELECT status FROM exchange_bids WHERE listing_id = :id"), {"id": item}))
        deals = (await db.execute(text(
            "SELECT buyer_id, price, status FROM exchange_transactions WHERE listing_id = :id"),
            {"id": item})).all()
    assert statuses == Counter({"won": 1, "outbid": codes[201] - 1})
    [deal] = deals
    assert (deal.buyer_id, deal.price, deal.status) == \
        (listing.high_bidder_id, best, "paid")
    for bidder in bidders:
        kept = best if bidder == deal.buyer_id else 0
        assert await available(resources, bidder) == Decimal(MONEY) - kept, seed

    checked = ledger_check(resources, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
