"""What a directory search costs as the number of profiles grows.

Run: `.venv/bin/python bench/directory.py [--profiles 300 1200] [--rounds 20]`

Starts embedded PostgreSQL and SecantusDB when POSTGRES_URL / MONGODB_URL are unset (else it
uses throw-away databases on the given servers), then for each size seeds that many active
members (a user in PostgreSQL, a profile in MongoDB spread over eight places and six
categories) and times, in process, the service calls behind the `/directory` page: a page
of everyone, a place, a screenname, a category, and the category counts (counted, and as
kept for a minute). It prints p50 in milliseconds per call and size, and the ratio between
the sizes. It asserts nothing.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime

from databases import bench_databases

PLACES = [("Little Havana", "Miami"), ("Wynwood", "Miami"), (None, "Miami Beach"),
          ("Little Haiti", "Miami"), (None, "Hialeah"), ("Allapattah", "Miami"),
          (None, "Coral Gables"), (None, "Doral")]
CATEGORIES = ["food", "coffee", "music", "art", "yoga", "repair"]


async def seed(resources, count: int) -> None:
    from sqlalchemy import insert, text

    from panamia.identity.models import User, new_id
    from panamia.profiles.documents import ProfileFields, stored

    async with resources.db.begin() as db:
        await db.execute(text("DELETE FROM users"))
    await resources.mongo.profiles.delete_many({})
    ids = [new_id() for _ in range(count)]
    async with resources.db.begin() as db:
        await db.execute(insert(User), [
            {"id": user_id, "email": f"m{i}@example.org", "name": f"Member {i}",
             "screenname": f"member_{i}"} for i, user_id in enumerate(ids)])
    now = datetime.now(UTC)
    documents = []
    for i, user_id in enumerate(ids):
        neighborhood, city = PLACES[i % len(PLACES)]
        fields = ProfileFields(
            name=f"Member {i}", bio="Neighbour of the week. " * 5, active=True,
            categories=[CATEGORIES[i % 6], CATEGORIES[(i + 1) % 6]],
            location={"neighborhood": neighborhood, "city": city, "state": "FL"})
        documents.append({**stored(fields), "userId": user_id, "createdAt": now,
                          "updatedAt": now, "version": 0})
    await resources.mongo.profiles.insert_many(documents)


async def timed(call, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(settings, sizes: list[int], rounds: int) -> dict[str, list[float]]:
    from panamia.profiles import repository, service
    from panamia.resources import Resources
    from panamia.sidecar.registry import ensure_indexes

    resources = Resources.open(settings, "bench")
    calls = {
        "everyone, page 1": lambda: service.directory(resources, q=None, category=None, page=1),
        "q=miami beach": lambda: service.directory(resources, q="miami beach", category=None,
                                                   page=1),
        "q=member_7 (screenname)": lambda: service.directory(resources, q="member_7",
                                                             category=None, page=1),
        "category=yoga, newest": lambda: service.directory(resources, q=None, category="yoga",
                                                           page=1, sort="newest"),
        "category counts, counted": lambda: repository.count_categories(resources.mongo,
                                                                        limit=50),
        "category counts, kept": lambda: service.categories_in_use(resources),
    }
    results: dict[str, list[float]] = {name: [] for name in calls}
    try:
        await ensure_indexes(resources.mongo)
        for size in sizes:
            await seed(resources, size)
            for name, call in calls.items():
                await call()  # warm up
                results[name].append(await timed(call, rounds))
    finally:
        await resources.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, nargs="+", default=[300, 1200])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from panamia.settings import Settings

    with bench_databases("panamia-directory") as dbs:
        settings = Settings(_env_file=None, postgres_url=dbs.url, mongodb_url=dbs.mongodb_url,
                            mongodb_db=dbs.name, auth_secret="bench-secret-" + "d" * 40,
                            panamia_env="test", panamia_data_dir=str(dbs.scratch))
        results = asyncio.run(measure(settings, args.profiles, args.rounds))
    sizes = " ".join(f"{size:>8} profiles" for size in args.profiles)
    print(f"{'p50 ms':<28}{sizes}   ratio last/first")
    for name, values in results.items():
        cells = " ".join(f"{value:>17.1f}" for value in values)
        ratio = values[-1] / values[0] if values[0] else float("nan")
        print(f"{name:<28}{cells}   {ratio:>6.1f}x")


if __name__ == "__main__":
    main()
