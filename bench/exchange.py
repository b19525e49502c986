"""Bids under contention: our `POST /listings/{id}/bids` against the same statements sent
straight to PostgreSQL.

Run: `.venv/bin/python bench/exchange.py [--bids 1000] [--concurrency 32] [--auctions 50]`

Starts embedded PostgreSQL and SecantusDB when POSTGRES_URL / MONGODB_URL are unset (else it
uses a throw-away database on the given servers and drops it at the end), migrates it, makes
`--concurrency` signed-in bidders with money (the manual provider) and two sets of
`--auctions` auctions, and draws one list of bids: each on a random auction, a dollar above
the bid drawn before it on that auction, by a random bidder. Clients racing on an auction
arrive out of order, so some bids lose (409) as they would in a real storm.

* (a) `POST /listings/{id}/bids` over HTTP to `panamia serve exchange` (one uvicorn worker,
  its own process), each client on its own keep-alive connection as its own bidder:
  sign-in check, CSRF, the conditional UPDATE, the outbid bid, the bid row, the ledger entry
  (hold and payback), two outbox notices, commit.
* (b) the same conditional UPDATE, bid rows and ledger entry (`auctions.raise_bid`,
  `journal.post` through `money.hold_bid`), one connection per client, from this process:
  what the database work alone allows.

It prints bids per second, accepted and refused counts, then a/b. It asserts nothing. All of
it shares this machine's cores: read the ratio.
"""

import argparse
import asyncio
import os
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

# Run as a script, this file's folder is on the path: the bookings bench's plumbing is shared.
from bookings import drive, post_json, serve
from databases import bench_databases
from session import stop

SECRET = "bench-secret-" + "e" * 40


async def seed(resources, bidders: int, auctions: int):
    """A seller, bidders with money and a session each, and two sets of auctions. Returns
    (bidder ids, their request headers, auction ids for (a), auction ids for (b))."""
    from sqlalchemy import insert

    from panamia.db.postgres import new_id
    from panamia.exchange.models import ExchangeListing
    from panamia.identity import cookies
    from panamia.identity import service as identity_service
    from panamia.identity.models import User
    from panamia.identity.tokens import csrf_cookie_value, new_token
    from panamia.ledger.providers import manual

    settings = resources.settings
    people = [new_id() for _ in range(bidders + 1)]
    seller, bidder_ids = people[0], people[1:]
    ends = datetime.now(UTC) + timedelta(days=1)
    sets = [[new_id() for _ in range(auctions)] for _ in range(2)]
    headers = []
    async with resources.db.begin() as db:
        await db.execute(insert(User), [{"id": p, "email": f"{p}@bench.example"}
                                        for p in people])
        await db.execute(insert(ExchangeListing), [
            {"id": a, "seller_id": seller, "kind": "auction", "title": "Bench lot",
             "category": "bench", "condition": "good", "city": "Miami", "currency": "USD",
             "start_price": Decimal(10), "min_increment": Decimal(1), "ends_at": ends}
            for ids in sets for a in ids])
        for bidder in bidder_ids:
            await manual.deposit(db, user_id=bidder, amount=Decimal("10000000"), currency="USD",
                                 reference=f"bench-{bidder}", recorded_by=None)
            session = await identity_service.start_session(db, resources, bidder)
            csrf = new_token()
            headers.append(
                f"Cookie: {cookies.session_cookie_name(settings)}={session.token}; "
                f"{cookies.csrf_cookie_name(settings)}={csrf_cookie_value(csrf, SECRET)}\r\n"
                f"X-CSRF-Token: {csrf}\r\n")
    return bidder_ids, headers, sets[0], sets[1]


def draw(count: int, auctions: int, bidders: int, rng: random.Random) -> list[tuple]:
    """(auction index, bidder index, amount): each a dollar above the last on its auction."""
    last = [Decimal(9)] * auctions
    work = []
    for _ in range(count):
        auction = rng.randrange(auctions)
        last[auction] += 1
        work.append((auction, rng.randrange(bidders), last[auction]))
    return work


async def over_http(port: int, auctions: list, headers: list, work: list, concurrency: int):
    """Each client bids as its own bidder (the drawn bidder is for (b), which needs none)."""

    def bid(item) -> tuple[str, bytes]:
        auction, _, amount = item
        return f"/listings/{auctions[auction]}/bids", f'{{"amount": "{amount}"}}'.encode()

    return await post_json(lambda: asyncio.open_connection("127.0.0.1", port), "127.0.0.1",
                           headers, work, concurrency, bid)


async def straight(url: str, auctions: list, bidders: list, work: list, concurrency: int):
    from sqlalchemy import insert, update
    from sqlalchemy.ext.asyncio import AsyncSession

    from panamia.db.postgres import create_engine, new_id
    from panamia.exchange import money
    from panamia.exchange.auctions import bids, raise_bid

    engine = create_engine(url, "bench", pool_size=concurrency, max_overflow=0)

    async def one(index: int, item) -> str:
        auction, _, amount = item
        bidder = bidders[index]
        async with engine.connect() as conn, AsyncSession(bind=conn) as session:
            async with session.begin():
                raised = (await session.execute(raise_bid(auctions[auction], bidder, amount))
                          ).first()
                if raised is None:
                    return "409"
                outbid = (await session.execute(
                    update(bids).where(bids.c.listing_id == raised.id,
                                       bids.c.status == "leading")
                    .values(status="outbid").returning(*bids.c))).first()
                bid = (await session.execute(insert(bids).values(
                    id=new_id(), listing_id=raised.id, bidder_id=bidder, amount=amount,
                    currency="USD", status="leading").returning(*bids.c))).one()
                await money.hold_bid(session, bid, outbid)
        return "201"

    try:
        return await drive(concurrency, work, one)
    finally:
        await engine.dispose()


async def run(args, url: str, mongodb_url: str, name: str, scratch: Path) -> list:
    from panamia.resources import Resources
    from panamia.settings import Settings

    settings = Settings(panamia_env="test", postgres_url=url, mongodb_url=mongodb_url,
                        mongodb_db=name, auth_secret=SECRET, _env_file=None)
    resources = Resources.open(settings, "bench")
    try:
        bidders, headers, for_http, for_sql = await seed(resources, args.concurrency,
                                                         args.auctions)
    finally:
        await resources.close()
    work = draw(args.bids, args.auctions, args.concurrency, random.Random(args.seed))
    process, port = serve("exchange", url, mongodb_url, name, scratch, SECRET)
    try:
        a = await over_http(port, for_http, headers, work, args.concurrency)
    finally:
        stop(process)
    b = await straight(url, for_sql, bidders, work, args.concurrency)
    return [("(a) POST /listings/{id}/bids over HTTP, our service (1 worker)", *a),
            ("(b) the same UPDATE, rows and ledger entry straight to PostgreSQL", *b)]


def report(args, results: list) -> None:
    print(f"\nexchange bench: {args.bids} bids, {args.concurrency} clients at once, "
          f"{args.auctions} auctions; {os.cpu_count()} CPUs shared by server, PostgreSQL "
          "and clients")
    print(f"{'approach':68} {'bids/s':>7} {'accepted':>9} {'refused':>8} {'other':>6}")
    rates = []
    for title, codes, seconds in results:
        rates.append(sum(codes.values()) / seconds)
        accepted, refused = codes.get("201", 0), codes.get("409", 0)
        other = sum(codes.values()) - accepted - refused
        print(f"{title:68} {rates[-1]:7.0f} {accepted:9d} {refused:8d} {other:6d}")
    print(f"a/b: {rates[0] / rates[1]:.2f} (load average now {os.getloadavg()[0]:.1f}: other "
          "work on the machine skews every figure)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bids", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--auctions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with bench_databases() as dbs:
        report(args, asyncio.run(run(args, dbs.url, dbs.mongodb_url, dbs.name, dbs.scratch)))


if __name__ == "__main__":
    main()
