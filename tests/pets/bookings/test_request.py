"""Requesting a booking over HTTP: prices, half-open dates, refusals, freed nights."""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from panamia.outbox import relay
from panamia.pets.bookings.expiry import expire_pending
from panamia.pets.models import Booking
from panamia.pets.listings import service as listings_service
from panamia.pets.listings.schemas import YEARS_AHEAD, BlackoutCreate, years_after
from tests.identity.factories import create_user
from tests.pets.bookings.factories import FIRST_NIGHT, body, create_booking
from tests.pets.factories import act_as, create_listing
from tests.profiles.factories import principal

NEXT_YEAR = date.today().year + 1


def nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def next_leap_day() -> date:
    """The next 29 February at least three days away."""
    year = date.today().year
    while not (calendar.isleap(year) and date(year, 2, 27) > date.today()):
        year += 1
    return date(year, 2, 29)


LEAP_DAY = next_leap_day()


async def owner_client(pets, client, resources):
    owner = await create_user(resources)
    return owner, await act_as(pets, client, resources, owner)


class TestRequest:
    async def test_201_with_the_server_computed_price(self, pets, client, resources):
        listing = await create_listing(resources, price_per_day=Decimal("45.50"))
        owner, headers = await owner_client(pets, client, resources)

        response = await pets.post("/bookings", json=body(listing.id, nights=3),
                                   headers=headers)

        assert response.status_code == 201, response.text
        booking = response.json()
        assert booking["status"] == "pending"
        assert booking["nights"] == 3 and booking["totalPrice"] == "136.50"
        assert booking["ownerId"] == owner and booking["sitterId"] == listing.sitter_id
        assert booking["pets"] == [{"name": "Rex", "species": "dog"}]
        assert (await pets.get(f"/bookings/{booking['id']}")).json()["totalPrice"] == "136.50"

    async def test_a_client_cannot_set_the_price(self, pets, client, resources):
        listing = await create_listing(resources)
        _, headers = await owner_client(pets, client, resources)
        response = await pets.post("/bookings", json=body(listing.id, totalPrice="1.00"),
                                   headers=headers)
        assert response.status_code == 422
        assert [f["field"] for f in response.json()["fields"]] == ["totalPrice"]

    async def test_the_sitter_is_offered_the_request(self, pets, client, resources):
        listing = await create_listing(resources, title="Garden flat")
        owner, headers = await owner_client(pets, client, resources)
        booking = (await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 2),
                                   headers=headers)).json()

        await relay.drain(resources)

        notes = await resources.mongo.notifications.find(
            {"targetId": listing.sitter_id}).to_list()
        assert [(n["type"], n["actorId"], n["object"]["id"]) for n in notes] == [
            ("Offer", owner, booking["id"])]
        assert notes[0]["object"]["summary"] == (
            f"Booking request: Garden flat, {FIRST_NIGHT} to "
            f"{FIRST_NIGHT + timedelta(days=2)} (2 nights)")


class TestHalfOpenDates:
    async def test_check_out_day_is_the_next_check_in_day(self, pets, client, resources):
        listing = await create_listing(resources)
        _, headers = await owner_client(pets, client, resources)
        first = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 3),
                                headers=headers)
        after = await pets.post("/bookings", json=body(
            listing.id, FIRST_NIGHT + timedelta(days=3), 2), headers=headers)
        before = await pets.post("/bookings", json=body(
            listing.id, FIRST_NIGHT - timedelta(days=2), 2), headers=headers)
        assert [first.status_code, after.status_code, before.status_code] == [201, 201, 201]

    @pytest.mark.parametrize(("offset", "nights"), [(2, 2), (-1, 2), (1, 1), (-5, 20)])
    async def test_sharing_one_night_is_409(self, pets, client, resources, offset, nights):
        listing = await create_listing(resources)
        await create_booking(resources, listing=listing, start=FIRST_NIGHT, nights=3)
        _, headers = await owner_client(pets, client, resources)

        response = await pets.post("/bookings", json=body(
            listing.id, FIRST_NIGHT + timedelta(days=offset), nights), headers=headers)

        assert response.status_code == 409
        assert response.json()["error"] == "conflict"
        assert "nights" in response.json()["detail"]

    async def test_other_listings_do_not_conflict(self, pets, client, resources):
        first, second = await create_listing(resources), await create_listing(resources)
        await create_booking(resources, listing=first)
        _, headers = await owner_client(pets, client, resources)
        response = await pets.post("/bookings", json=body(second.id), headers=headers)
        assert response.status_code == 201

    @pytest.mark.parametrize("nights", [0, -1, -30])
    async def test_zero_night_and_reversed_ranges_are_422(self, pets, client, resources, nights):
        listing = await create_listing(resources)
        _, headers = await owner_client(pets, client, resources)
        response = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, nights),
                                   headers=headers)
        assert response.status_code == 422
        assert [f["field"] for f in response.json()["fields"]] == ["endDate"]

    async def test_ninety_nights_at_most(self, pets, client, resources):
        listing = await create_listing(resources, price_per_day=Decimal("10"))
        _, headers = await owner_client(pets, client, resources)
        too_long = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 91),
                                   headers=headers)
        longest = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 90),
                                  headers=headers)
        assert too_long.status_code == 422
        assert too_long.json()["fields"][0]["field"] == "endDate"
        assert longest.status_code == 201 and longest.json()["totalPrice"] == "900.00"


class TestPricedByNights:
    @pytest.mark.parametrize(("start", "end", "nights"), [
        # America/New_York springs forward (a 23-hour day) and falls back (25 hours).
        (nth_sunday(NEXT_YEAR, 3, 2) - timedelta(days=1),
         nth_sunday(NEXT_YEAR, 3, 2) + timedelta(days=2), 3),
        (nth_sunday(NEXT_YEAR, 11, 1) - timedelta(days=2),
         nth_sunday(NEXT_YEAR, 11, 1) + timedelta(days=1), 3),
        (date(NEXT_YEAR, 4, 29), date(NEXT_YEAR, 5, 2), 3),
        (date(NEXT_YEAR, 12, 30), date(NEXT_YEAR + 1, 1, 2), 3),
        pytest.param(LEAP_DAY - timedelta(days=2), LEAP_DAY + timedelta(days=2), 4,
                     marks=pytest.mark.skipif(
                         LEAP_DAY > years_after(date.today(), YEARS_AHEAD),
                         reason="the next 29 February is beyond the bookable two years")),
    ], ids=["dst-start", "dst-end", "month-end", "year-end", "leap-day"])
    async def test_nights_not_hours(self, pets, client, resources, start, end, nights):
        listing = await create_listing(resources, price_per_day=Decimal("40.00"),
                                       timezone="America/New_York")
        _, headers = await owner_client(pets, client, resources)

        response = await pets.post("/bookings", json=body(listing.id, start, end=end),
                                   headers=headers)

        assert response.status_code == 201, response.text
        assert response.json()["nights"] == nights
        assert Decimal(response.json()["totalPrice"]) == 40 * nights

    def test_the_dst_cases_do_cross_a_change(self):
        zone = ZoneInfo("America/New_York")
        for sunday in (nth_sunday(NEXT_YEAR, 3, 2), nth_sunday(NEXT_YEAR, 11, 1)):
            before = datetime.combine(sunday - timedelta(days=1), time(12), zone)
            after = datetime.combine(sunday + timedelta(days=1), time(12), zone)
            assert before.utcoffset() != after.utcoffset()


class TestRefused:
    async def test_a_start_in_the_past_where_the_sitter_is(self, pets, client, resources):
        # Kiritimati (UTC+14) is always at least a day ahead of Pago Pago (UTC-11).
        pago_pago_today = datetime.now(ZoneInfo("Pacific/Pago_Pago")).date()
        ahead = await create_listing(resources, timezone="Pacific/Kiritimati")
        behind = await create_listing(resources, timezone="Pacific/Pago_Pago")
        _, headers = await owner_client(pets, client, resources)

        refused = await pets.post("/bookings", json=body(ahead.id, pago_pago_today, 1),
                                  headers=headers)
        accepted = await pets.post("/bookings", json=body(behind.id, pago_pago_today, 1),
                                   headers=headers)

        assert refused.status_code == 422
        assert refused.json()["fields"][0]["field"] == "startDate"
        kiritimati_today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
        assert refused.json()["detail"] == (
            f"The first night has passed: it is already {kiritimati_today:%a %-d %b} where the "
            "sitter is. Choose today or a later day.")
        assert accepted.status_code == 201

    async def test_own_listing(self, pets, client, resources):
        sitter = await create_user(resources)
        listing = await create_listing(resources, sitter_id=sitter)
        headers = await act_as(pets, client, resources, sitter)
        response = await pets.post("/bookings", json=body(listing.id), headers=headers)
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "listingId"

    @pytest.mark.parametrize(("listing_fields", "request_fields", "field"), [
        ({"available": False}, {}, "listingId"),
        ({"max_pets": 1}, {"pets": [{"name": "A", "species": "dog"},
                                    {"name": "B", "species": "dog"}]}, "pets"),
        ({"species": ["cat"]}, {}, "pets"),
        ({}, {"pets": [{"name": "Nessie", "species": "dragon"}]}, "pets.0.species"),
        ({}, {"pets": []}, "pets"),
        ({}, {"listingId": "no-such-listing"}, "listingId"),
        ({}, {"listingId": "../../etc"}, "listingId"),
        ({}, {"startDate": "2027-02-30"}, "startDate"),
    ], ids=["unavailable", "too-many-pets", "species", "unknown-species", "no-pets",
            "unknown-listing", "bad-id", "no-such-date"])
    async def test_422_naming_the_field(
        self, pets, client, resources, listing_fields, request_fields, field
    ):
        listing = await create_listing(resources, **listing_fields)
        _, headers = await owner_client(pets, client, resources)
        response = await pets.post("/bookings", json=body(listing.id) | request_fields,
                                   headers=headers)
        assert response.status_code == 422, response.text
        assert [f["field"] for f in response.json()["fields"]] == [field]

    async def test_nights_over_a_blackout_are_409(self, pets, client, resources):
        listing = await create_listing(resources)
        await listings_service.add_blackout(
            resources, principal(listing.sitter_id), listing.id, BlackoutCreate(
                start_date=FIRST_NIGHT + timedelta(days=2),
                end_date=FIRST_NIGHT + timedelta(days=4)))
        _, headers = await owner_client(pets, client, resources)

        over = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 3),
                               headers=headers)
        up_to = await pets.post("/bookings", json=body(listing.id, FIRST_NIGHT, 2),
                                headers=headers)

        assert over.status_code == 409 and "away" in over.json()["detail"]
        assert up_to.status_code == 201
        async with resources.reads() as db:
            count = (await db.execute(select(func.count()).select_from(Booking).where(
                Booking.listing_id == listing.id))).scalar_one()
        assert count == 1


class TestFreedNights:
    @pytest.mark.parametrize("status", ["cancelled", "declined"])
    async def test_at_once(self, pets, client, resources, status):
        listing = await create_listing(resources)
        await create_booking(resources, listing=listing, status=status)
        _, headers = await owner_client(pets, client, resources)
        response = await pets.post("/bookings", json=body(listing.id), headers=headers)
        assert response.status_code == 201

    async def test_by_expiry(self, pets, client, resources):
        listing = await create_listing(resources)
        await create_booking(resources, listing=listing)
        _, headers = await owner_client(pets, client, resources)
        assert (await pets.post("/bookings", json=body(listing.id),
                                headers=headers)).status_code == 409

        await expire_pending(resources.db, datetime.now(UTC) + timedelta(hours=49))

        assert (await pets.post("/bookings", json=body(listing.id),
                                headers=headers)).status_code == 201
