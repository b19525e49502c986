"""The sitter's side over the JSON API: My sitting (`GET /sitting`), a request over the
owner's own pending nights, a sitter's rating across listings, and the time zone a place
stands for."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from panamia.pets.listings import places
from panamia.pets.models import Booking
from panamia.pets.reviews.models import Review
from tests.identity.factories import create_user
from tests.pets.bookings.factories import FIRST_NIGHT, body
from tests.pets.factories import act_as, create_listing, insert_booking


async def review_row(resources, listing, rating: int) -> None:
    """A completed stay at `listing` and its owner's review, written as rows."""
    owner = await create_user(resources)
    booking = await insert_booking(resources, listing, owner_id=owner, status="completed")
    async with resources.db.begin() as db:
        await db.execute(insert(Review).values(booking_id=booking, author_id=owner,
                                               listing_id=listing.id, rating=rating))


class TestMySitting:
    async def test_listings_waiting_requests_with_their_deadline_and_upcoming_stays(
            self, pets, client, resources):
        sitter = await create_user(resources, screenname="tomas")
        garden = await create_listing(resources, sitter_id=sitter, title="Garden")
        hidden = await create_listing(resources, sitter_id=sitter, title="Flat", available=False)
        elsewhere = await create_listing(resources, title="Someone else's")
        owner = await create_user(resources, screenname="ana", name="Ana")
        asked = datetime.now(UTC) - timedelta(hours=5)
        waiting = await insert_booking(resources, garden, owner_id=owner, status="pending",
                                       created_at=asked)
        stale = await insert_booking(resources, garden, status="pending",
                                     start_date=FIRST_NIGHT + timedelta(10),
                                     created_at=datetime.now(UTC) - timedelta(hours=49))
        upcoming = await insert_booking(resources, hidden, owner_id=owner,
                                        start_date=FIRST_NIGHT + timedelta(20))
        await insert_booking(resources, garden, status="declined")
        await insert_booking(resources, elsewhere, status="pending")

        await act_as(pets, client, resources, sitter)
        found = (await pets.get("/sitting")).json()

        # Both, taking bookings or not (made in one transaction: same creation time).
        assert sorted(listing["title"] for listing in found["listings"]) == ["Flat", "Garden"]
        assert [b["id"] for b in found["waiting"]] == [waiting]
        assert stale not in {b["id"] for b in found["waiting"]}
        request = found["waiting"][0]
        assert datetime.fromisoformat(request["answerBy"]) == asked + timedelta(hours=48)
        assert (request["otherPartyScreenname"], request["otherPartyName"]) == ("ana", "Ana")
        assert [b["id"] for b in found["upcoming"]] == [upcoming]

    async def test_a_stay_over_before_yesterday_is_no_longer_upcoming(self, pets, client,
                                                                      resources):
        listing = await create_listing(resources)
        over = await insert_booking(resources, listing)
        async with resources.db.begin() as db:
            await db.execute(update(Booking).where(Booking.id == over).values(
                start_date=datetime.now(UTC).date() - timedelta(9),
                end_date=datetime.now(UTC).date() - timedelta(3)))
        await act_as(pets, client, resources, listing.sitter_id)
        assert (await pets.get("/sitting")).json()["upcoming"] == []

    async def test_signed_in_only(self, pets):
        response = await pets.get("/sitting")
        assert response.status_code == 401 and response.json()["error"]


class TestOwnRequestHoldsTheNights:
    async def test_says_you_already_asked_instead_of_taken(self, pets, client, resources):
        listing = await create_listing(resources)
        owner = await create_user(resources)
        headers = await act_as(pets, client, resources, owner)
        first = await pets.post("/bookings", json=body(listing.id, nights=3), headers=headers)
        assert first.status_code == 201

        again = await pets.post("/bookings", headers=headers, json=body(
            listing.id, FIRST_NIGHT + timedelta(1), nights=3))

        assert again.status_code == 409
        assert again.json()["error"] == "already asked"
        assert "You already asked for some of these nights" in again.json()["detail"]
        assert "waiting for the sitter's answer" in again.json()["detail"]

    async def test_someone_else_hears_the_nights_are_taken(self, pets, client, resources):
        listing = await create_listing(resources)
        await insert_booking(resources, listing, start_date=FIRST_NIGHT, status="pending")
        headers = await act_as(pets, client, resources, await create_user(resources))
        taken = await pets.post("/bookings", json=body(listing.id), headers=headers)
        assert taken.status_code == 409 and taken.json()["error"] == "conflict"


class TestSitterRating:
    async def test_average_and_latest_over_all_their_listings(self, pets, resources):
        sitter = await create_user(resources)
        first = await create_listing(resources, sitter_id=sitter)
        second = await create_listing(resources, sitter_id=sitter)
        other = await create_listing(resources)
        for listing, rating in ((first, 5), (second, 4), (second, 2), (other, 1)):
            await review_row(resources, listing, rating)

        found = (await pets.get(f"/sitters/{sitter}/reviews", params={"latest": 2})).json()

        assert (found["count"], found["averageRating"]) == (3, 3.67)
        assert len(found["latest"]) == 2

    async def test_a_member_who_sits_for_no_one_has_none(self, pets, resources):
        found = (await pets.get(f"/sitters/{await create_user(resources)}/reviews")).json()
        assert (found["count"], found["averageRating"], found["latest"]) == (0, None, [])


async def test_a_listing_without_a_time_zone_takes_its_places(pets, client, resources):
    headers = await act_as(pets, client, resources, await create_user(resources))
    listing = {"title": "Sunny flat", "pricePerDay": "$35", "services": ["boarding"],
               "species": ["dog"], "city": "Tempe", "zip": "85281"}
    derived = await pets.post("/listings", json=listing, headers=headers)
    chosen = await pets.post("/listings", json=listing | {"timezone": "America/Denver"},
                             headers=headers)
    assert derived.json()["timezone"] == "America/Phoenix"
    assert derived.json()["pricePerDay"] == "35.00"
    assert chosen.json()["timezone"] == "America/Denver"


@pytest.mark.parametrize(("zip_code", "place", "zone"), [
    ("33130", None, "America/New_York"), ("60601", None, "America/Chicago"),
    ("85001", None, "America/Phoenix"), ("99501", None, "America/Anchorage"),
    (None, "Orlando, Florida", "America/New_York"), (None, "Austin, TX", "America/Chicago"),
    ("", "Miami", "America/New_York"), ("ABCDE", "Atlantis", None), (None, None, None),
])
def test_the_time_zone_of_a_us_place(zip_code, place, zone):
    assert places.zone_for(zip_code=zip_code, place=place) == zone
