"""Searching with dates: only listings free for every night of `[from, to)`."""

from datetime import date

import pytest

from panamia.pets.listings.models import ListingBlackout
from tests.pets.factories import NEXT_YEAR, create_listing, insert_booking

FROM, TO = date(NEXT_YEAR, 6, 10), date(NEXT_YEAR, 6, 15)


async def found(pets, city: str, start=FROM, end=TO) -> set[str]:
    response = await pets.get("/listings", params={
        "city": city, "from": start.isoformat(), "to": end.isoformat()})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def blackout(resources, listing_id: str, start: date, end: date) -> None:
    async with resources.db.begin() as db:
        db.add(ListingBlackout(listing_id=listing_id, start_date=start, end_date=end))


@pytest.mark.parametrize(("status", "excluded"), [
    ("pending", True), ("confirmed", True), ("cancelled", False), ("declined", False),
    ("expired", False), ("completed", False),
])
async def test_only_an_active_booking_takes_the_nights(pets, resources, status, excluded):
    city = f"Booked-{status}"
    listing = await create_listing(resources, city=city)
    await insert_booking(resources, listing, start_date=date(NEXT_YEAR, 6, 12),
                         end_date=date(NEXT_YEAR, 6, 20), status=status)
    assert (listing.id not in await found(pets, city)) is excluded


@pytest.mark.parametrize(("start", "end", "excluded"), [
    (date(NEXT_YEAR, 6, 5), FROM, False),    # checks out on `from`: the night of `from` is free
    (TO, date(NEXT_YEAR, 6, 18), False),     # checks in on `to`, which is not searched
    (date(NEXT_YEAR, 6, 5), date(NEXT_YEAR, 6, 11), True),
    (date(NEXT_YEAR, 6, 14), date(NEXT_YEAR, 6, 16), True),
    (date(NEXT_YEAR, 6, 1), date(NEXT_YEAR, 6, 30), True),
])
async def test_ranges_are_half_open(pets, resources, start, end, excluded):
    city = f"Edges-{start:%d}-{end:%d}"
    booked = await create_listing(resources, city=city)
    blocked = await create_listing(resources, city=city)
    await insert_booking(resources, booked, start_date=start, end_date=end)
    await blackout(resources, blocked.id, start, end)
    result = await found(pets, city)
    assert (booked.id not in result) is excluded
    assert (blocked.id not in result) is excluded


async def test_free_listings_stay_and_dates_are_ignored_without_them(pets, resources):
    city = "Mixed"
    free = await create_listing(resources, city=city)
    taken = await create_listing(resources, city=city)
    await insert_booking(resources, taken, start_date=FROM, end_date=TO)
    assert await found(pets, city) == {free.id}
    everything = await pets.get("/listings", params={"city": city})
    assert {item["id"] for item in everything.json()["items"]} == {free.id, taken.id}


@pytest.mark.parametrize(("params", "field"), [
    ({"from": f"{NEXT_YEAR}-06-10", "to": f"{NEXT_YEAR}-06-10"}, "to"),
    ({"from": f"{NEXT_YEAR}-06-10", "to": f"{NEXT_YEAR}-06-01"}, "to"),
    ({"from": f"{NEXT_YEAR}-01-01", "to": f"{NEXT_YEAR + 1}-01-03"}, "to"),
    ({"from": f"{NEXT_YEAR}-06-10"}, "to"),
    ({"to": f"{NEXT_YEAR}-06-10"}, "from"),
    ({"from": f"{NEXT_YEAR}-02-30", "to": f"{NEXT_YEAR}-03-02"}, "from"),
    ({"from": "soon", "to": f"{NEXT_YEAR}-03-02"}, "from"),
])
async def test_a_bad_window_is_422_naming_the_field(pets, params, field):
    response = await pets.get("/listings", params=params)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == [field]
