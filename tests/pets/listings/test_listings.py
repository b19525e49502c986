"""Offering, reading, editing and searching listings over HTTP."""

from decimal import Decimal

import pytest

from tests.identity.factories import create_user
from tests.pets.factories import act_as, create_listing

BODY = {
    "title": "Sunny flat near the park", "description": "Two walks a day.",
    "pricePerDay": "45", "currency": "USD", "services": ["boarding", "dog_walking"],
    "species": ["dog"], "maxPets": 2, "city": "Miami", "zip": "33101",
    "timezone": "America/New_York",
}


class TestCreate:
    async def test_the_signed_in_user_becomes_the_sitter(self, pets, client, resources):
        sitter = await create_user(resources, screenname="ana", name="Ana Sol")
        headers = await act_as(pets, client, resources, sitter)

        response = await pets.post("/listings", json=BODY, headers=headers)

        assert response.status_code == 201, response.text
        listing = response.json()
        assert listing["sitterId"] == sitter
        assert listing["sitter"] == {"id": sitter, "screenname": "ana", "name": "Ana Sol"}
        assert listing["pricePerDay"] == "45.00"
        assert listing["maxPets"] == 2 and listing["available"] is True
        assert (await pets.get(f"/listings/{listing['id']}")).json() == listing

    async def test_a_price_as_a_json_number_is_kept_exactly(self, pets, client, resources):
        headers = await act_as(pets, client, resources, await create_user(resources))
        response = await pets.post("/listings", json={**BODY, "pricePerDay": 19.99},
                                   headers=headers)
        assert response.json()["pricePerDay"] == "19.99"

    async def test_a_sitter_id_in_the_body_is_refused(self, pets, client, resources):
        headers = await act_as(pets, client, resources, await create_user(resources))
        response = await pets.post("/listings", json={**BODY, "sitterId": "someone-else"},
                                   headers=headers)
        assert response.status_code == 422
        assert [f["field"] for f in response.json()["fields"]] == ["sitterId"]

    @pytest.mark.parametrize(("field", "value"), [
        ("pricePerDay", "0"), ("pricePerDay", "-5"), ("pricePerDay", "45.001"),
        ("pricePerDay", "NaN"), ("pricePerDay", "1e20"), ("services", ["grooming"]),
        ("services", []), ("species", ["dragon"]), ("timezone", "Mars/Olympus"),
        ("timezone", "localtime"), ("currency", "usd"), ("maxPets", 0), ("maxPets", 21),
        ("title", ""), ("title", "x" * 121), ("city", "Mia\x00mi"),
    ])
    async def test_each_bad_field_is_named(self, pets, client, resources, field, value):
        headers = await act_as(pets, client, resources, await create_user(resources))
        response = await pets.post("/listings", json={**BODY, field: value}, headers=headers)
        assert response.status_code == 422, response.text
        assert {f["field"].split(".")[0] for f in response.json()["fields"]} == {field}

    async def test_several_bad_fields_are_all_named(self, pets, client, resources):
        headers = await act_as(pets, client, resources, await create_user(resources))
        body = {**BODY, "pricePerDay": "0", "services": ["x"], "timezone": "Nowhere"}
        response = await pets.post("/listings", json=body, headers=headers)
        names = {f["field"].split(".")[0] for f in response.json()["fields"]}
        assert names == {"pricePerDay", "services", "timezone"}


class TestRead:
    @pytest.mark.parametrize("listing_id", ["nosuchlisting", "x" * 64])
    async def test_an_unknown_listing_is_404(self, pets, listing_id):
        response = await pets.get(f"/listings/{listing_id}")
        assert response.status_code == 404
        assert response.json()["error"] == "listing not found"

    @pytest.mark.parametrize("listing_id", ["a%00b", "x" * 65, "a%20b"])
    async def test_an_id_that_cannot_be_one_is_422_not_500(self, pets, listing_id):
        assert (await pets.get(f"/listings/{listing_id}")).status_code == 422


class TestPatch:
    async def test_only_the_fields_given_change(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)

        response = await pets.patch(f"/listings/{listing.id}", headers=headers,
                                    json={"pricePerDay": "50.5", "available": False})

        assert response.status_code == 200, response.text
        patched = response.json()
        assert patched["pricePerDay"] == "50.50" and patched["available"] is False
        assert patched["title"] == listing.title and patched["city"] == listing.city

    async def test_null_for_a_required_field_is_422(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)
        response = await pets.patch(f"/listings/{listing.id}", json={"title": None},
                                    headers=headers)
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "title"

    async def test_null_clears_an_optional_field(self, pets, client, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)
        response = await pets.patch(f"/listings/{listing.id}", json={"description": None},
                                    headers=headers)
        assert response.json()["description"] is None


class TestSearch:
    async def ids(self, pets, **params) -> list[str]:
        response = await pets.get("/listings", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    async def test_filters_by_city_service_and_species(self, pets, resources):
        city = f"Hialeah-{(await create_user(resources))[:6]}"
        match = await create_listing(resources, city=city, services=["house_sitting"],
                                     species=["cat", "bird"])
        await create_listing(resources, city=city, services=["boarding"], species=["bird"])
        await create_listing(resources, city=city, services=["house_sitting"],
                             species=["dog"])
        await create_listing(resources, city="Elsewhere", services=["house_sitting"],
                             species=["bird"])

        found = await self.ids(pets, city=city.upper(), service="house_sitting",
                               species="bird")

        assert found == [match.id]

    async def test_unavailable_listings_are_left_out(self, pets, resources):
        city = "Doral-hidden"
        shown = await create_listing(resources, city=city)
        await create_listing(resources, city=city, available=False)
        assert await self.ids(pets, city=city) == [shown.id]

    async def test_pages(self, pets, resources):
        city = "Kendall-paged"
        made = {(await create_listing(resources, city=city)).id for _ in range(5)}
        first = (await pets.get("/listings", params={"city": city, "pageSize": 3})).json()
        second = (await pets.get("/listings",
                                 params={"city": city, "pageSize": 3, "page": 2})).json()
        assert first["hasMore"] is True and second["hasMore"] is False
        assert {i["id"] for i in first["items"] + second["items"]} == made
        assert len(first["items"]) == 3 and len(second["items"]) == 2

    @pytest.mark.parametrize("params", [
        {"service": "grooming"}, {"species": "dragon"}, {"page": 0}, {"pageSize": 101},
        {"city": "x\x00y"},
    ])
    async def test_bad_filters_are_422(self, pets, params):
        assert (await pets.get("/listings", params=params)).status_code == 422

    async def test_money_is_never_a_float(self, pets, resources):
        await create_listing(resources, city="Cutler Bay", price_per_day=Decimal("30"))
        item = (await pets.get("/listings", params={"city": "Cutler Bay"})).json()["items"][0]
        assert item["pricePerDay"] == "30.00"
