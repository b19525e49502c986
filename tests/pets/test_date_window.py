"""Every date sent to the sidecar lies in a window around today: bookings and blackouts
and searches start from today to two years ahead, availability from a year back to two
years ahead. Outside it the answer is a 422 naming the field and the window; before,
0001-01-01 and 9999-12-31 reached PostgreSQL as -infinity and infinity."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from panamia.pets.models import Booking
from panamia.pets.listings.models import ListingBlackout
from tests.identity.factories import create_user
from tests.pets.bookings.factories import body
from tests.pets.factories import act_as, create_listing

TODAY = datetime.now(UTC).date()
LATEST = TODAY.replace(year=TODAY.year + 2, day=28 if TODAY.strftime("%m%d") == "0229"
                       else TODAY.day)
EDGES = pytest.mark.parametrize("start", [
    "0001-01-01", "9999-12-30", (TODAY - timedelta(days=2)).isoformat(),
    (LATEST + timedelta(days=1)).isoformat(),
], ids=["year-1", "year-9999", "past", "beyond-two-years"])


async def rows(resources, table) -> int:
    async with resources.reads() as db:
        return (await db.execute(select(func.count()).select_from(table))).scalar_one()


def refused(response, field: str, *window: str) -> bool:
    problem = response.json()["fields"][0]
    return (response.status_code == 422 and problem["field"] == field
            and all(day in problem["message"] for day in window))


class TestBookings:
    @EDGES
    async def test_start_from_today_to_two_years_ahead(self, pets, client, resources, start):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        response = await pets.post("/bookings", headers=headers, json=body(listing.id) | {
            "startDate": start, "endDate": "9999-12-31"})
        assert refused(response, "startDate", str(LATEST)), response.text
        assert "from today" in response.json()["detail"]
        assert await rows(resources, Booking) == 0

    async def test_the_last_bookable_night_is_two_years_ahead(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        response = await pets.post("/bookings", headers=headers,
                                   json=body(listing.id, LATEST, nights=2))
        assert response.status_code == 201, response.text


class TestBlackouts:
    @EDGES
    async def test_start_from_today_to_two_years_ahead(self, pets, client, resources, start):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)
        response = await pets.post(f"/listings/{listing.id}/blackouts", headers=headers,
                                   json={"startDate": start, "endDate": "9999-12-31"})
        assert refused(response, "startDate", str(LATEST)), response.text
        assert await rows(resources, ListingBlackout) == 0

    async def test_today_can_be_blocked(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)
        response = await pets.post(f"/listings/{listing.id}/blackouts", headers=headers, json={
            "startDate": TODAY.isoformat(), "endDate": (TODAY + timedelta(days=1)).isoformat()})
        assert response.status_code == 201, response.text


WINDOWS = pytest.mark.parametrize(("start", "end"), [
    ("0001-01-01", "0001-01-05"), ("9999-12-25", "9999-12-31"),
    ((TODAY - timedelta(days=400)).isoformat(), (TODAY - timedelta(days=390)).isoformat()),
], ids=["year-1", "year-9999", "over-a-year-back"])


class TestReads:
    @WINDOWS
    async def test_availability_from_a_year_back_to_two_years_ahead(self, pets, resources,
                                                                    start, end):
        listing = await create_listing(resources)
        response = await pets.get(f"/listings/{listing.id}/availability",
                                  params={"from": start, "to": end})
        assert refused(response, "to", str(TODAY - timedelta(days=366)), str(LATEST))

    async def test_search_from_today_to_two_years_ahead(self, pets):
        response = await pets.get("/listings", params={"from": "9999-12-25", "to": "9999-12-31"})
        assert refused(response, "to", str(LATEST)), response.text

    @pytest.mark.parametrize("start", ["0001-01-01", (TODAY - timedelta(days=2)).isoformat()],
                             ids=["year-1", "past"])
    async def test_a_search_of_nights_gone_by_is_refused(self, pets, start):
        response = await pets.get("/listings", params={
            "from": start, "to": (TODAY + timedelta(days=3)).isoformat()})
        assert refused(response, "from"), response.text
        assert response.json()["detail"] == "This day has passed; search from today on."

    async def test_last_month_can_be_read(self, pets, resources):
        listing = await create_listing(resources)
        response = await pets.get(f"/listings/{listing.id}/availability", params={
            "from": (TODAY - timedelta(days=40)).isoformat(), "to": TODAY.isoformat()})
        assert response.status_code == 200, response.text
