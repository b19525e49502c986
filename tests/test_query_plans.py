"""No request reads a large table from end to end.

The tables are seeded with a few thousand rows each, in proportions a live site has (most
sessions in force, most bookings answered, most outbox events delivered recently), and
ANALYZEd. Then the requests in REQUESTS run through the real apps over HTTP (the main app,
with the ledger, and the pets, exchange and rentals sidecars, in-process) and the background
jobs run as their loops call them, while a listener on the engine records every statement
sent. Each distinct statement is
then EXPLAINed with the parameters it was sent with, and any `Seq Scan` of a table of more
than LARGE rows fails the test, naming the statement and the table.

Everything happens inside the test's transaction, ANALYZE included, and is rolled back.
The ledger's tables and `rentals` (not `rental_items`) are not seeded yet: their requests
are checked against the seeded tables they share (users, sessions, idempotency keys, outbox).
To cover a new service, write an async function taking a `Visit` that makes its requests
(seeding what it needs, and asserting they succeeded) and add it to REQUESTS; seed its
tables in SEED.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import event, text

from panamia import purge
from panamia.articles.documents import Status
from panamia.exchange import sweep as exchange_sweep
from panamia.exchange.sidecar import SIDECAR as EXCHANGE
from panamia.federation import delivery
from panamia.pets.bookings import expiry
from panamia.rentals import expiry as rentals_expiry
from panamia.rentals.sidecar import SIDECAR as RENTALS
from panamia.resources import Resources
from panamia.sidecar.registry import create_app
from tests.exchange.factories import member, sale
from tests.articles.factories import create_article
from tests.fixtures.federation import known_remote, signed
from tests.fixtures.http import BROWSER, asgi_client, signed_in_cookies
from tests.fixtures.servers import Mailbox
from tests.identity.factories import magic_link, press_sign_in, request_link, unique_email
from tests.pets.bookings.factories import FIRST_NIGHT, body
from tests.pets.factories import act_as, create_listing
from tests.profiles.factories import create_member
from tests.rentals.factories import body as rental_body
from tests.rentals.factories import create_item, fund

LARGE = 1000  # rows; a sequential scan of a smaller table is fine
CITIES = 100

# Users 1-1000 are sitters, 1001-4000 owners, the rest neither. Each listing has two bookings, ten days apart
# (so that no two active ones overlap); one in ten pending, made within the last day.
SEED = [
    """INSERT INTO users (id, email, name, created_at)
       SELECT 'seed-u' || i, 'seed' || i || '@example.org', 'Seed person ' || i,
              now() - i * interval '1 minute' FROM generate_series(1, 10000) i""",
    """INSERT INTO sessions (id, session_token, user_id, expires, created_at, last_seen_at)
       SELECT 'seed-s' || i, md5('seed session ' || i), 'seed-u' || (i % 4000 + 1),
              now() + interval '20 days' - (i % 50) * interval '1 hour',
              now() - (i % 200) * interval '1 hour', now() - (i % 60) * interval '1 minute'
         FROM generate_series(1, 5000) i""",
    """INSERT INTO verification_tokens (identifier, token, expires)
       SELECT 'seed' || i || '@example.org', md5('seed token ' || i),
              now() + (i % 1440) * interval '1 minute' FROM generate_series(1, 3000) i""",
    """INSERT INTO rate_limit_windows (key, window_start, hits)
       SELECT 'seed:' || i, date_trunc('minute', now()) - (i % 30) * interval '1 minute', 1
         FROM generate_series(1, 3000) i""",
    f"""INSERT INTO listings (id, sitter_id, title, price_per_day, services, species, city,
                             created_at)
       SELECT 'seed-l' || i, 'seed-u' || (i % 1000 + 1), 'Seed listing ' || i, 40,
              ARRAY['boarding'], ARRAY['dog', 'cat'], 'Seed City ' || (i % {CITIES}),
              now() - i * interval '1 minute' FROM generate_series(1, 3000) i""",
    """INSERT INTO listing_blackouts (id, listing_id, start_date, end_date)
       SELECT 'seed-x' || i, 'seed-l' || i, current_date + 300, current_date + 302
         FROM generate_series(1, 3000) i""",
    """INSERT INTO bookings (id, listing_id, sitter_id, owner_id, start_date, end_date,
                            status, total_price, currency, created_at)
       SELECT 'seed-b' || i, l.id, l.sitter_id, 'seed-u' || (1001 + i % 3000),
              current_date + 200 + 10 * (i / 3000), current_date + 203 + 10 * (i / 3000),
              CASE WHEN i % 10 = 0 THEN 'pending' WHEN i % 10 = 1 THEN 'cancelled'
                   ELSE 'confirmed' END, 120, 'USD', now() - (i % 24) * interval '1 hour'
         FROM generate_series(0, 5999) i JOIN listings l ON l.id = 'seed-l' || (i % 3000 + 1)""",
    """INSERT INTO reviews (id, booking_id, author_id, listing_id, rating)
       SELECT 'seed-r' || b.id, b.id, b.owner_id, b.listing_id, 5 FROM bookings b
        WHERE b.id LIKE 'seed-b%' AND b.status = 'confirmed'""",
    """INSERT INTO idempotency_keys (user_id, scope, key, request_hash, response_status,
                                    created_at, expires_at)
       SELECT 'seed-u' || (i % 4000 + 1), 'POST /bookings', 'seed-k' || i, md5(i::text), 201,
              now() - (i % 20) * interval '1 hour', now() + interval '4 hours'
         FROM generate_series(1, 3000) i""",
    """INSERT INTO outbox (id, topic, payload, created_at, delivered_at, next_attempt_at)
       SELECT 'seed-o' || i, 'seed.topic', '{}', now() - (i % 48) * interval '1 hour',
              CASE WHEN i % 50 <> 0 THEN now() - (i % 48) * interval '1 hour' END,
              now() + interval '1 hour' FROM generate_series(1, 5000) i""",
    # The exchange: sales by sitters, one in five taken by an owner and completed.
    f"""INSERT INTO exchange_listings (id, seller_id, kind, title, category, condition, city,
                                      price, status, created_at)
       SELECT 'seed-e' || i, 'seed-u' || (i % 1000 + 1), 'sale', 'Seed item ' || i, 'bikes',
              'good', 'Seed City ' || (i % {CITIES}), 10,
              CASE WHEN i % 5 = 0 THEN 'taken' ELSE 'open' END, now() - i * interval '1 minute'
         FROM generate_series(1, 3000) i""",
    """INSERT INTO exchange_transactions (id, listing_id, seller_id, buyer_id, kind, price, fee,
                                        currency, status, completed_at)
       SELECT 'seed-t' || l.id, l.id, l.seller_id, 'seed-u' || (1001 + i % 3000), 'sale', 10,
              0.5, 'USD', 'completed', now()
         FROM generate_series(1, 3000) i JOIN exchange_listings l ON l.id = 'seed-e' || i
        WHERE l.status = 'taken'""",
    # Things members lend, most of them open to requests.
    """INSERT INTO rental_items (id, owner_id, title, category, price, price_unit, currency,
                               min_units, buffer_minutes, deposit, timezone, available,
                               created_at)
       SELECT 'seed-i' || i, 'seed-u' || (i % 1000 + 1), 'Seed drill ' || i, 'tools', 5,
              'hour', 'USD', 1, 60, 40, 'America/New_York', i % 10 <> 0,
              now() - i * interval '1 minute' FROM generate_series(1, 3000) i""",
    # Owners follow two members each (no pair twice, never themselves); likes of 500 articles.
    """INSERT INTO follows (id, follower_id, followed_id, accepted_at)
       SELECT 'seed-f' || i, 'seed-u' || (i % 4000 + 1), 'seed-u' || (4001 + i % 6000), now()
         FROM generate_series(1, 8000) i""",
    """INSERT INTO article_likes (article_id, user_id)
       SELECT 'seed-a' || (i % 500), 'seed-u' || (i % 10000 + 1) FROM generate_series(1, 6000) i""",
    # Federation: people on 100 other servers, most of the deliveries to them done, those
    # left waiting for a later try; their likes of 500 articles, activities already seen.
    """INSERT INTO remote_actors (id, uri, type, inbox, shared_inbox, public_key_id,
                                public_key_pem, preferred_username, domain)
       SELECT 'seed-r' || i, 'https://s' || (i % 100) || '.example/users/' || i, 'Person',
              'https://s' || (i % 100) || '.example/users/' || i || '/inbox',
              'https://s' || (i % 100) || '.example/inbox',
              'https://s' || (i % 100) || '.example/users/' || i || '#main-key', '-',
              'seed' || i, 's' || (i % 100) || '.example' FROM generate_series(1, 3000) i""",
    """INSERT INTO actor_keys (actor_id, public_key_pem, private_key_encrypted)
       VALUES ('seed-k', '-', '\\x00')""",
    """INSERT INTO deliveries (id, activity_id, inbox, domain, signer_id, body, state,
                             next_attempt_at)
       SELECT 'seed-d' || i, 'https://here.example/activities/' || (i / 50),
              'https://s' || (i % 100) || '.example/inbox', 's' || (i % 100) || '.example',
              'seed-k', '{}', CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'delivered' END,
              now() + interval '1 hour' FROM generate_series(1, 5000) i""",
    """INSERT INTO remote_interactions (id, actor_id, article_id, type, activity_id)
       SELECT 'seed-ri' || i, 'seed-r' || (i % 3000 + 1), 'seed-a' || (i % 500), 'Like',
              'https://s.example/likes/' || i FROM generate_series(1, 3000) i""",
    """INSERT INTO received_activities (id, actor_uri, type)
       SELECT 'https://s.example/activities/' || i, 'https://s.example/users/1', 'Like'
         FROM generate_series(1, 5000) i""",
]


@dataclass
class Visit:
    """What a request needs: the apps' clients, the services' resources, the mailbox."""

    client: httpx.AsyncClient  # the main app
    pets: httpx.AsyncClient
    resources: Resources
    mailbox: Mailbox


def ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response


async def sign_in_and_read_profile(visit: Visit) -> None:
    email = unique_email("plans")
    ok(await request_link(visit.client, email))
    ok(await press_sign_in(visit.client, magic_link(visit.mailbox.to(email)[-1])), 303)
    assert ok(await visit.client.get("/api/auth/session")).json()["user"]["email"] == email
    ok(await visit.client.get("/api/profile"))
    ok(await visit.client.get("/api/notifications"))
    ok(await visit.client.get("/api/notifications/unread-count"))
    ok(await visit.client.get("/api/directory", params={"q": "seed person 12"}))
    ok(await visit.client.get("/api/directory"))


async def search_listings(visit: Visit) -> None:
    found = ok(await visit.pets.get("/listings", params={"city": "seed city 7"})).json()
    assert found["items"], found
    stay = {"from": FIRST_NIGHT.isoformat(), "to": (FIRST_NIGHT + timedelta(days=3)).isoformat()}
    ok(await visit.pets.get("/listings", params={"city": "Seed City 8", **stay}))
    ok(await visit.pets.get(f"/listings/{found['items'][0]['id']}"))
    ok(await visit.pets.get(f"/listings/{found['items'][0]['id']}/reviews"))


async def request_and_confirm_a_booking(visit: Visit) -> None:
    listing = await create_listing(visit.resources)
    headers = await act_as(visit.pets, visit.client, visit.resources, "seed-u1500")
    booking = ok(await visit.pets.post("/bookings", json=body(listing.id),
                                       headers=headers | {"Idempotency-Key": "plans-1"}), 201)
    ok(await visit.pets.get("/bookings"))
    headers = await act_as(visit.pets, visit.client, visit.resources, listing.sitter_id)
    ok(await visit.pets.post(f"/bookings/{booking.json()['id']}/confirm", headers=headers))
    ok(await visit.pets.get(f"/bookings/{booking.json()['id']}"))


async def trade_on_the_exchange(visit: Visit) -> None:
    app = create_app(EXCHANGE, visit.resources.settings, visit.resources)
    async with member(app, visit.resources, money="0") as seller, \
            member(app, visit.resources) as buyer:
        item = ok(await seller.post("/listings", sale()), 201).json()
        ok(await buyer.get("/listings", city="Miami"))
        deal = ok(await buyer.post(f"/listings/{item['id']}/buy"), 201).json()
        ok(await buyer.post(f"/transactions/{deal['id']}/pay"))
        ok(await buyer.get("/transactions"))
    await exchange_sweep.sweep(visit.resources, datetime.now(UTC))


async def signed_in_as(client: httpx.AsyncClient, resources: Resources, user_id: str) -> dict:
    """Give `client` the cookies of `user_id`; the CSRF header to send with them."""
    cookies, headers = await signed_in_cookies(resources, user_id)
    client.cookies.clear()
    client.cookies.update(cookies)
    return headers


async def rent_an_item(visit: Visit) -> None:
    item, renter = await create_item(visit.resources), "seed-u1600"
    await fund(visit.resources, renter)
    app = create_app(RENTALS, visit.resources.settings, visit.resources)
    async with asgi_client(app) as rentals:
        ok(await rentals.get("/items"))
        ok(await rentals.get("/items", params={"category": "tools"}))
        headers = await signed_in_as(rentals, visit.resources, renter)
        rental = ok(await rentals.post("/rentals", json=rental_body(item.id), headers=headers),
                    201).json()
        ok(await rentals.get("/rentals"))
        headers = await signed_in_as(rentals, visit.resources, item.owner_id)
        ok(await rentals.post(f"/rentals/{rental['id']}/confirm", headers=headers))
    await rentals_expiry.expire_unanswered(visit.resources, datetime.now(UTC))


async def follow_and_like(visit: Visit) -> None:
    ana = await create_member(visit.resources, screenname="plans_ana", active=True)
    await create_article(visit.resources, ana, status=Status.PUBLISHED, title="Plans")
    headers = await signed_in_as(visit.client, visit.resources, "seed-u1700")
    ok(await visit.client.put("/api/people/plans_ana/follow", headers=headers))
    ok(await visit.client.get("/api/people/plans_ana/followers"))
    ok(await visit.client.get("/people/plans_ana", headers=BROWSER))
    ok(await visit.client.put("/api/articles/plans/like", headers=headers))
    ok(await visit.client.get("/api/articles"))
    ok(await visit.client.get("/api/account/blockers"))


async def hear_from_other_servers(visit: Visit) -> None:
    ana = await create_member(visit.resources, screenname="plans_fed", active=True)
    slug = await create_article(visit.resources, ana, status=Status.PUBLISHED, title="Fed")
    bob = await known_remote(visit.resources)
    inbox = "http://testserver/ap/inbox"
    for activity in (bob.activity("Follow", f"http://testserver/ap/users/{ana}"),
                     bob.activity("Like", f"http://testserver/articles/{slug}")):
        body, headers = signed(bob, inbox, activity)
        ok(await visit.client.post(inbox, content=body, headers=headers), 202)
    ok(await visit.client.get(f"/api/articles/{slug}/remote"))
    ok(await visit.client.get(f"/articles/{slug}", headers=BROWSER))
    ok(await visit.client.get(f"/ap/users/{ana}/followers"))
    await delivery.deliver_once(visit.resources)


async def read_my_money(visit: Visit) -> None:
    ok(await visit.client.get("/api/ledger/me"))


async def sweep_and_purge(visit: Visit) -> None:
    now = datetime.now(UTC)
    await expiry.expire_pending(visit.resources.db, now)
    await purge.purge(visit.resources.db, visit.resources.settings, now)


REQUESTS: list[Callable[[Visit], Awaitable[None]]] = [
    sign_in_and_read_profile,
    search_listings,
    request_and_confirm_a_booking,
    trade_on_the_exchange,
    rent_an_item,
    follow_and_like,
    hear_from_other_servers,
    read_my_money,
    sweep_and_purge,
]
EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")


def sequential_scans(plan: dict) -> list[str]:
    """The tables a plan (EXPLAIN's JSON) reads with a Seq Scan, subplans included."""
    own = [plan["Relation Name"]] if plan["Node Type"] == "Seq Scan" else []
    return own + [table for child in plan.get("Plans", ()) for table in sequential_scans(child)]


async def test_no_request_scans_a_large_table(client, pets, resources, connection, engine,
                                              mailbox):
    for statement in SEED:
        await connection.execute(text(statement))
    await connection.execute(text("ANALYZE"))
    sizes = dict((await connection.execute(text(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' "
        "AND relnamespace = 'public'::regnamespace"))).all())

    sent: dict[str, tuple] = {}  # each distinct statement, with the parameters of its first use

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(EXPLAINABLE):
            sent.setdefault(statement, parameters[0] if executemany else parameters)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        visit = Visit(client, pets, resources, mailbox)
        for request in REQUESTS:
            await request(visit)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    scans, read = [], set()
    for statement, parameters in sent.items():
        async with connection.begin_nested():
            plan = (await connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {statement}", parameters)).scalar_one()
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
        read.update(json.dumps(plan).split('"Relation Name": "')[1:])
        for table in sequential_scans(plan):
            if sizes.get(table, 0) > LARGE:
                scans.append(f"Seq Scan on {table} ({sizes[table]:.0f} rows) in:\n"
                             f"{' '.join(statement.split())}\n  with {parameters}")
    # the requests did read the seeded tables, so a clean result means something
    read_tables = {part.split('"', 1)[0] for part in read}
    assert {"users", "sessions", "listings", "bookings", "idempotency_keys",
            "verification_tokens", "outbox", "exchange_listings",
            "exchange_transactions", "rental_items", "follows",
            "article_likes"} <= read_tables, read_tables
    assert not scans, "\n\n".join(scans)
