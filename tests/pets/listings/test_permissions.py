"""Who may change a listing and its blackouts, over HTTP, for every kind of person."""

from datetime import date

import pytest

from panamia.pets.listings.models import ListingBlackout
from tests.identity.factories import create_user
from tests.pets.factories import NEXT_YEAR, act_as, create_listing

ACTORS = ("anonymous", "other", "sitter", "admin")
BODY = {"title": "Home", "pricePerDay": "30", "services": ["boarding"], "species": ["cat"],
        "city": "Miami"}
SPAN = {"startDate": f"{NEXT_YEAR}-05-01", "endDate": f"{NEXT_YEAR}-05-03"}

# (method, path under /listings/{id}, body) and the answer for each actor
ACTIONS = {
    "edit": ("PATCH", "", {"title": "Renamed"}),
    "add blackout": ("POST", "/blackouts", SPAN),
    "remove blackout": ("DELETE", "/blackouts/{blackout}", None),
}
#                     anonymous, other, sitter, admin
EXPECTED = {
    "edit": (401, 403, 200, 200),
    "add blackout": (401, 403, 201, 403),
    "remove blackout": (401, 403, 204, 403),
}


@pytest.fixture
async def cast(resources) -> dict[str, str | None]:
    return {
        "anonymous": None,
        "other": await create_user(resources),
        "sitter": await create_user(resources),
        "admin": await create_user(resources, email="admin@example.org"),
    }


async def blackout(resources, listing_id: str) -> str:
    async with resources.db.begin() as db:
        row = ListingBlackout(listing_id=listing_id, start_date=date(NEXT_YEAR, 6, 1),
                              end_date=date(NEXT_YEAR, 6, 2))
        db.add(row)
    return row.id


@pytest.mark.parametrize(("action", "actor", "expected"), [
    (action, actor, status) for action, statuses in EXPECTED.items()
    for actor, status in zip(ACTORS, statuses, strict=True)
])
async def test_who_may_change_a_listing(pets, client, resources, cast, action, actor, expected):
    listing = await create_listing(resources, sitter_id=cast["sitter"])
    method, path, body = ACTIONS[action]
    path = path.format(blackout=await blackout(resources, listing.id))
    headers = await act_as(pets, client, resources, cast[actor])

    response = await pets.request(method, f"/listings/{listing.id}{path}", json=body,
                                  headers=headers)

    assert response.status_code == expected, response.text


@pytest.mark.parametrize("action", ACTIONS)
async def test_an_unknown_listing_is_404_for_anyone_signed_in(pets, client, resources, cast,
                                                              action):
    method, path, body = ACTIONS[action]
    headers = await act_as(pets, client, resources, cast["admin"])
    response = await pets.request(method, f"/listings/nosuchlisting{path}".format(
        blackout="nosuchblackout"), json=body, headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize(("actor", "expected"), [
    ("anonymous", 401), ("other", 201), ("admin", 201),
])
async def test_anyone_signed_in_may_offer_a_listing(pets, client, resources, cast, actor,
                                                    expected):
    headers = await act_as(pets, client, resources, cast[actor])
    assert (await pets.post("/listings", json=BODY, headers=headers)).status_code == expected


async def test_without_the_csrf_header_a_change_is_refused(pets, client, resources, cast):
    listing = await create_listing(resources, sitter_id=cast["sitter"])
    await act_as(pets, client, resources, cast["sitter"])
    response = await pets.patch(f"/listings/{listing.id}", json={"title": "x"})
    assert response.status_code == 403 and response.json()["error"] == "csrf"


async def test_reading_needs_no_account(pets, resources, cast):
    listing = await create_listing(resources, sitter_id=cast["sitter"])
    assert (await pets.get(f"/listings/{listing.id}")).status_code == 200
    assert (await pets.get("/listings")).status_code == 200
    window = {"from": f"{NEXT_YEAR}-01-01", "to": f"{NEXT_YEAR}-02-01"}
    assert (await pets.get(f"/listings/{listing.id}/availability",
                           params=window)).status_code == 200
