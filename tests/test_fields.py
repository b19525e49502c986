"""The shared form fields: amounts, ZIP codes, web addresses and times, as members type them."""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from panamia.exchange.schemas import BidCreate, ListingCreate, OfferCreate
from panamia.fields import CURRENCIES, Amount, ClockTime, Price, Url, Zip, clock_face
from panamia.pets.listings.schemas import ListingCreate as PetListingCreate
from panamia.rentals.schemas import ItemCreate
from tests.identity.factories import create_user
from tests.pets.factories import act_as
from tests.pets.listings.test_listings import BODY as PET_LISTING
from tests.profiles.test_own_profile import signed_in


def problem(kind, value) -> str:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    return caught.value.errors()[0]["msg"]


class TestMoney:
    @pytest.mark.parametrize(("typed", "amount"), [
        ("$35", "35"), ("35", "35"), ("35.00", "35.00"), ("$1,200", "1200"),
        (" $ 1,200.50 ", "1200.50"), ("0.5", "0.5"), (19.99, "19.99"), (45, "45"),
    ])
    def test_an_amount_is_understood_as_people_write_it(self, typed, amount):
        assert TypeAdapter(Price).validate_python(typed) == Decimal(amount)

    @pytest.mark.parametrize(("typed", "message"), [
        ("-5", "Enter an amount of $0 or more"),
        ("abc", "Enter an amount like 35 or $35.00"),
        ("$", "Enter an amount like 35 or $35.00"),
        ("1,20", "Enter an amount like 35 or $35.00"),
        ("NaN", "Enter an amount like 35 or $35.00"),
        ("1e20", "Enter an amount like 35 or $35.00"),
        (True, "Enter an amount like 35 or $35.00"),
        ("45.001", "Use at most two decimals (cents), like 35.50"),
        ("$100,000,000", "Enter an amount below $100,000,000"),
        ("0", "Enter a price above $0, like 35"),
    ])
    def test_a_wrong_amount_gets_a_plain_message(self, typed, message):
        assert problem(Price, typed) == message

    def test_an_amount_may_be_zero_where_a_price_may_not(self):
        assert TypeAdapter(Amount).validate_python("$0") == 0

    @pytest.mark.parametrize(("model", "field"), [
        (PetListingCreate, "price_per_day"), (ItemCreate, "price"), (ItemCreate, "deposit"),
        (ListingCreate, "price"), (ListingCreate, "start_price"), (OfferCreate, "amount"),
        (BidCreate, "amount"),
    ])
    def test_every_price_a_member_types_is_read_the_same_way(self, model, field):
        adapter = TypeAdapter(model.model_fields[field].rebuild_annotation())
        assert adapter.validate_python("$1,200") == Decimal("1200")
        with pytest.raises(ValidationError, match=r"Enter an amount of \$0 or more"):
            adapter.validate_python("-5")

    def test_the_currencies_offered_have_codes_and_names(self):
        codes = [code for code, _ in CURRENCIES]
        assert codes[0] == "USD" and len(set(codes)) == len(codes)
        assert all(len(code) == 3 and code.isupper() and name for code, name in CURRENCIES)

    async def test_a_pet_listing_priced_like_a_person_writes_it(self, pets, client, resources):
        headers = await act_as(pets, client, resources, await create_user(resources))
        response = await pets.post("/listings", headers=headers,
                                   json={**PET_LISTING, "pricePerDay": "$1,200"})
        assert response.status_code == 201, response.text
        assert response.json()["pricePerDay"] == "1200.00"
        response = await pets.post("/listings", headers=headers,
                                   json={**PET_LISTING, "pricePerDay": "$"})
        assert response.status_code == 422
        assert response.json()["fields"] == [
            {"field": "pricePerDay", "message": "Enter an amount like 35 or $35.00."}]


class TestZip:
    @pytest.mark.parametrize("typed", ["33130", " 33130 ", "33130-1234"])
    def test_five_digits_or_zip_plus_four(self, typed):
        assert TypeAdapter(Zip).validate_python(typed) == typed.strip()

    @pytest.mark.parametrize("typed", ["3313", "331300", "33130-12", "ABCDE", "٣٣١٣٠", 33130])
    def test_anything_else_is_refused_with_an_example(self, typed):
        assert problem(Zip, typed) == "Enter a 5-digit ZIP code, like 33130"

    async def test_a_pet_listing_and_a_profile_check_zip_codes_alike(
        self, pets, client, resources
    ):
        headers = await act_as(pets, client, resources, await create_user(resources))
        listing = await pets.post("/listings", headers=headers,
                                  json={**PET_LISTING, "zip": "Miami"})
        _, csrf = await signed_in(client, resources)
        profile = await client.patch("/api/profile", headers=csrf,
                                     json={"location": {"zip": "3313"}})
        message = "Enter a 5-digit ZIP code, like 33130."
        assert listing.json()["fields"] == [{"field": "zip", "message": message}]
        assert profile.json()["fields"] == [{"field": "location.zip", "message": message}]


class TestWebAddress:
    @pytest.mark.parametrize(("typed", "kept"), [
        ("instagram.com/x", "https://instagram.com/x"),
        ("  example.org  ", "https://example.org"),
        ("//example.org/a", "https://example.org/a"),
        ("http://example.org/a?b=c", "http://example.org/a?b=c"),
        ("HTTPS://Example.org", "HTTPS://Example.org"),
        ("example.org:8080/shop", "https://example.org:8080/shop"),
    ])
    def test_an_address_without_https_gets_it(self, typed, kept):
        assert TypeAdapter(Url).validate_python(typed) == kept

    @pytest.mark.parametrize("typed", ["javascript:alert(1)", "JavaScript:alert(1)",
                                       "data:text/html,hi", "mailto:a@example.org", "ftp://shop",
                                       "garbage", "two words.com", "http://[x", "https://"])
    def test_scripts_and_garbage_are_refused_plainly(self, typed):
        assert problem(Url, typed) == "Enter a web address, like https://example.org/page"

    async def test_profile_links_are_kept_with_https(self, client, resources):
        _, csrf = await signed_in(client, resources)
        response = await client.patch("/api/profile", headers=csrf, json={"socialLinks": {
            "website": "cafeluna.example", "instagram": "instagram.com/cafeluna",
            "customLinks": [{"label": "Menu", "url": "cafeluna.example/menu"}]}})
        assert response.status_code == 200, response.text
        links = response.json()["profile"]["socialLinks"]
        assert (links["website"], links["instagram"], links["customLinks"][0]["url"]) == (
            "https://cafeluna.example", "https://instagram.com/cafeluna",
            "https://cafeluna.example/menu")


class TestTimes:
    @pytest.mark.parametrize(("typed", "kept"), [
        ("9:00 AM", "09:00"), ("9am", "09:00"), ("9.30 a.m.", "09:30"), ("5:30 pm", "17:30"),
        ("17:30", "17:30"), ("12 AM", "00:00"), ("12:15 PM", "12:15"), ("00:00", "00:00"),
    ])
    def test_a_time_is_understood_in_either_clock(self, typed, kept):
        assert TypeAdapter(ClockTime).validate_python(typed) == kept

    @pytest.mark.parametrize("typed", ["9", "25:00", "9:75", "noon", "٠٩:00"])
    def test_a_wrong_time_gets_a_plain_message(self, typed):
        assert problem(ClockTime, typed) == "Enter a time like 9:00 AM or 17:30"

    def test_am_or_pm_needs_an_hour_up_to_12(self):
        assert problem(ClockTime, "13 pm") == "With AM or PM, the hour is 1 to 12"

    @pytest.mark.parametrize(("hhmm", "twelve"), [
        ("00:00", "12:00 AM"), ("09:05", "9:05 AM"), ("12:00", "12:00 PM"),
        ("23:59", "11:59 PM"),
    ])
    def test_a_time_reads_in_the_clock_a_member_picks(self, hhmm, twelve):
        assert clock_face(hhmm) == twelve
        assert clock_face(hhmm, hours24=True) == hhmm
