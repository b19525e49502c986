"""Blocking nights, and the public view of which nights are taken."""

from datetime import date, timedelta

import pytest

from tests.identity.factories import create_user
from tests.pets.factories import NEXT_YEAR, act_as, create_listing, insert_booking


def span(start: date, end: date) -> dict[str, str]:
    return {"startDate": start.isoformat(), "endDate": end.isoformat()}


@pytest.fixture
async def sitter(pets, client, resources, listing) -> dict[str, str]:
    """CSRF headers, with `pets` signed in as the listing's sitter."""
    return await act_as(pets, client, resources, listing.sitter_id)


class TestAdd:
    async def test_blocks_the_nights_and_can_be_removed(self, pets, listing, sitter):
        response = await pets.post(f"/listings/{listing.id}/blackouts", headers=sitter,
                                   json=span(date(NEXT_YEAR, 7, 1), date(NEXT_YEAR, 7, 4)))
        assert response.status_code == 201, response.text
        made = response.json()
        assert made["listingId"] == listing.id and made["endDate"] == f"{NEXT_YEAR}-07-04"

        deleted = await pets.delete(f"/listings/{listing.id}/blackouts/{made['id']}",
                                    headers=sitter)
        assert deleted.status_code == 204
        again = await pets.delete(f"/listings/{listing.id}/blackouts/{made['id']}",
                                  headers=sitter)
        assert again.status_code == 404

    @pytest.mark.parametrize("status", ["pending", "confirmed"])
    async def test_refused_over_an_active_booking(self, pets, resources, listing, sitter,
                                                  status):
        await insert_booking(resources, listing, start_date=date(NEXT_YEAR, 7, 10),
                             end_date=date(NEXT_YEAR, 7, 14), status=status)
        response = await pets.post(f"/listings/{listing.id}/blackouts", headers=sitter,
                                   json=span(date(NEXT_YEAR, 7, 13), date(NEXT_YEAR, 7, 20)))
        assert response.status_code == 409
        assert response.json()["error"] == "dates booked"

    @pytest.mark.parametrize(("status", "start", "end"), [
        ("cancelled", date(NEXT_YEAR, 7, 10), date(NEXT_YEAR, 7, 14)),
        ("declined", date(NEXT_YEAR, 7, 10), date(NEXT_YEAR, 7, 14)),
        # checks out as the block begins, and checks in as it ends
        ("confirmed", date(NEXT_YEAR, 7, 5), date(NEXT_YEAR, 7, 10)),
        ("confirmed", date(NEXT_YEAR, 7, 20), date(NEXT_YEAR, 7, 25)),
    ])
    async def test_allowed_beside_or_over_inactive_bookings(self, pets, resources, listing,
                                                            sitter, status, start, end):
        await insert_booking(resources, listing, start_date=start, end_date=end, status=status)
        response = await pets.post(f"/listings/{listing.id}/blackouts", headers=sitter,
                                   json=span(date(NEXT_YEAR, 7, 10), date(NEXT_YEAR, 7, 20)))
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(("body", "field"), [
        (span(date(NEXT_YEAR, 7, 4), date(NEXT_YEAR, 7, 4)), "endDate"),
        (span(date(NEXT_YEAR, 7, 4), date(NEXT_YEAR, 7, 1)), "endDate"),
        (span(date(NEXT_YEAR, 1, 1), date(NEXT_YEAR + 1, 1, 3)), "endDate"),
        ({"startDate": f"{NEXT_YEAR}-07-01"}, "endDate"),
        ({"startDate": "July", "endDate": f"{NEXT_YEAR}-07-04"}, "startDate"),
    ])
    async def test_bad_dates_are_422(self, pets, listing, sitter, body, field):
        response = await pets.post(f"/listings/{listing.id}/blackouts", json=body,
                                   headers=sitter)
        assert response.status_code == 422
        assert [f["field"] for f in response.json()["fields"]] == [field]

    async def test_a_blackout_of_another_listing_is_not_found(self, pets, resources, listing,
                                                              sitter, client):
        other = await create_listing(resources, sitter_id=listing.sitter_id)
        made = (await pets.post(f"/listings/{other.id}/blackouts", headers=sitter,
                                json=span(date(NEXT_YEAR, 7, 1), date(NEXT_YEAR, 7, 4)))).json()
        response = await pets.delete(f"/listings/{listing.id}/blackouts/{made['id']}",
                                     headers=sitter)
        assert response.status_code == 404


class TestAvailability:
    async def test_lists_booked_and_blocked_ranges_cut_to_the_window(self, pets, resources,
                                                                      listing, sitter):
        owner = await create_user(resources)
        await insert_booking(resources, listing, owner_id=owner, start_date=date(NEXT_YEAR, 8, 28),
                             end_date=date(NEXT_YEAR, 9, 3), status="confirmed",
                             note="Door code 1234", pets=[{"name": "Rex"}])
        await insert_booking(resources, listing, start_date=date(NEXT_YEAR, 9, 10),
                             end_date=date(NEXT_YEAR, 9, 12), status="pending")
        await insert_booking(resources, listing, start_date=date(NEXT_YEAR, 9, 14),
                             end_date=date(NEXT_YEAR, 9, 16), status="cancelled")
        await pets.post(f"/listings/{listing.id}/blackouts", headers=sitter,
                        json=span(date(NEXT_YEAR, 9, 20), date(NEXT_YEAR, 10, 5)))
        pets.cookies.clear()

        response = await pets.get(f"/listings/{listing.id}/availability",
                                  params={"from": f"{NEXT_YEAR}-09-01", "to": f"{NEXT_YEAR}-10-01"})

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ranges"] == [
            {"startDate": f"{NEXT_YEAR}-09-01", "endDate": f"{NEXT_YEAR}-09-03", "kind": "booked"},
            {"startDate": f"{NEXT_YEAR}-09-10", "endDate": f"{NEXT_YEAR}-09-12", "kind": "booked"},
            {"startDate": f"{NEXT_YEAR}-09-20", "endDate": f"{NEXT_YEAR}-10-01", "kind": "blocked"},
        ]
        assert body["from"] == f"{NEXT_YEAR}-09-01" and body["available"] is True
        for private in (owner, "1234", "Rex", str(listing.price_per_day), "totalPrice"):
            assert private not in response.text

    async def test_ranges_that_only_touch_the_window_are_left_out(self, pets, resources,
                                                                  listing):
        await insert_booking(resources, listing, start_date=date(NEXT_YEAR, 8, 28),
                             end_date=date(NEXT_YEAR, 9, 1))
        await insert_booking(resources, listing, start_date=date(NEXT_YEAR, 10, 1),
                             end_date=date(NEXT_YEAR, 10, 3))
        response = await pets.get(f"/listings/{listing.id}/availability",
                                  params={"from": f"{NEXT_YEAR}-09-01", "to": f"{NEXT_YEAR}-10-01"})
        assert response.json()["ranges"] == []

    @pytest.mark.parametrize("params", [
        {"from": f"{NEXT_YEAR}-09-01", "to": f"{NEXT_YEAR}-09-01"},
        {"from": f"{NEXT_YEAR}-09-02", "to": f"{NEXT_YEAR}-09-01"},
        {"from": f"{NEXT_YEAR}-01-01", "to": f"{NEXT_YEAR + 1}-01-03"},
        {"from": f"{NEXT_YEAR}-09-01"}, {},
    ])
    async def test_a_bad_window_is_422(self, pets, listing, params):
        response = await pets.get(f"/listings/{listing.id}/availability", params=params)
        assert response.status_code == 422

    async def test_a_year_is_allowed(self, pets, listing):
        start = date(NEXT_YEAR, 1, 1)
        response = await pets.get(f"/listings/{listing.id}/availability", params={
            "from": start.isoformat(), "to": (start + timedelta(days=366)).isoformat()})
        assert response.status_code == 200

    async def test_an_unknown_listing_is_404(self, pets):
        response = await pets.get("/listings/nosuchlisting/availability",
                                  params={"from": f"{NEXT_YEAR}-09-01", "to": f"{NEXT_YEAR}-09-02"})
        assert response.status_code == 404
