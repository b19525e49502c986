"""Who may do what, for every booking endpoint, and what each person's list shows."""

from datetime import date, timedelta

import pytest

from tests.identity.factories import create_user
from tests.pets.bookings.factories import FIRST_NIGHT, body, create_booking
from tests.pets.factories import act_as, create_listing, insert_booking

WHO = ["anonymous", "stranger", "owner", "sitter", "admin"]
# What each person gets for each step on one booking (a fresh one per case).
MATRIX = {
    "get": [401, 404, 200, 200, 200],
    "confirm": [401, 404, 403, 200, 403],
    "decline": [401, 404, 403, 200, 403],
    "cancel": [401, 404, 200, 200, 403],
    "complete": [401, 404, 403, 200, 403],
}
CASES = [(step, who, code) for step, codes in MATRIX.items() for who, code in zip(WHO, codes)]


async def people(resources, booking_owner: str, sitter: str) -> dict[str, str | None]:
    return {
        "anonymous": None, "stranger": await create_user(resources),
        "owner": booking_owner, "sitter": sitter,
        "admin": await create_user(resources, role="admin"),
    }


@pytest.mark.parametrize(("step", "who", "code"), CASES,
                         ids=[f"{step}-{who}" for step, who, _ in CASES])
async def test_who_may(pets, client, resources, step, who, code):
    listing, owner = await create_listing(resources), await create_user(resources)
    if step == "complete":
        booking_id = await insert_booking(
            resources, listing, owner_id=owner, start_date=date.today() - timedelta(days=5),
            end_date=date.today() - timedelta(days=1), status="confirmed")
    else:
        booking_id = (await create_booking(resources, listing=listing, owner_id=owner)).id
    user = (await people(resources, owner, listing.sitter_id))[who]
    headers = await act_as(pets, client, resources, user)

    if step == "get":
        response = await pets.get(f"/bookings/{booking_id}")
    else:
        response = await pets.post(f"/bookings/{booking_id}/{step}", headers=headers)

    assert response.status_code == code, response.text
    if code == 404:
        assert response.json()["detail"] == "No booking with this id is visible to you."


@pytest.mark.parametrize(("who", "code", "sees_it"), [
    ("anonymous", 401, None), ("stranger", 201, False), ("owner", 201, True),
    ("sitter", 422, True), ("admin", 201, False),
], ids=WHO)
async def test_who_may_request_and_whose_list_shows_it(pets, client, resources, who, code,
                                                       sees_it):
    """Anyone signed in may request any listing but their own; `GET /bookings` lists only
    one's own bookings, as owner or as sitter, admins included."""
    listing, owner = await create_listing(resources), await create_user(resources)
    booking = await create_booking(resources, listing=listing, owner_id=owner)
    headers = await act_as(pets, client, resources,
                           (await people(resources, owner, listing.sitter_id))[who])

    requested = await pets.post("/bookings", json=body(
        listing.id, FIRST_NIGHT + timedelta(days=10)), headers=headers)
    listed = await pets.get("/bookings")

    assert requested.status_code == code, requested.text
    if sees_it is None:
        assert listed.status_code == 401
    else:
        assert (booking.id in [b["id"] for b in listed.json()["items"]]) is sees_it


async def test_an_unknown_id_is_404_like_someone_elses(pets, client, resources):
    headers = await act_as(pets, client, resources, await create_user(resources))
    assert (await pets.get("/bookings/nosuchbooking")).status_code == 404
    assert (await pets.post("/bookings/nosuchbooking/cancel", headers=headers)).status_code == 404


async def test_a_request_without_a_csrf_token_is_403(pets, client, resources):
    listing = await create_listing(resources)
    await act_as(pets, client, resources, await create_user(resources))
    response = await pets.post("/bookings", json=body(listing.id))
    assert response.status_code == 403 and response.json()["error"] == "csrf"


class TestListing:
    async def test_each_with_the_other_partys_screenname(self, pets, client, resources):
        me = await create_user(resources, screenname="mia")
        sitter = await create_user(resources, screenname="sol")
        owner = await create_user(resources, screenname="ana")
        theirs = await create_listing(resources, sitter_id=sitter)
        mine = await create_listing(resources, sitter_id=me)
        as_owner = await create_booking(resources, listing=theirs, owner_id=me)
        as_sitter = await create_booking(resources, listing=mine, owner_id=owner,
                                         start=FIRST_NIGHT + timedelta(days=10))
        await create_booking(resources)  # someone else's
        await act_as(pets, client, resources, me)

        owned = (await pets.get("/bookings", params={"role": "owner"})).json()
        sat = (await pets.get("/bookings", params={"role": "sitter"})).json()
        both = (await pets.get("/bookings")).json()

        assert [(b["id"], b["otherPartyScreenname"]) for b in owned["items"]] == [
            (as_owner.id, "sol")]
        assert [(b["id"], b["otherPartyScreenname"]) for b in sat["items"]] == [
            (as_sitter.id, "ana")]
        assert [(b["id"], b["otherPartyScreenname"]) for b in both["items"]] == [
            (as_sitter.id, "ana"), (as_owner.id, "sol")]

    async def test_by_status_and_page(self, pets, client, resources):
        me = await create_user(resources)
        listing = await create_listing(resources)
        made = [await create_booking(resources, listing=listing, owner_id=me,
                                     start=FIRST_NIGHT + timedelta(days=5 * i),
                                     status="confirmed" if i % 2 else "pending")
                for i in range(5)]
        await act_as(pets, client, resources, me)

        confirmed = (await pets.get("/bookings", params={"status": "confirmed"})).json()
        first = (await pets.get("/bookings", params={"pageSize": 3})).json()
        second = (await pets.get("/bookings", params={"pageSize": 3, "page": 2})).json()

        assert [b["id"] for b in confirmed["items"]] == [made[3].id, made[1].id]
        assert first["hasMore"] and not second["hasMore"]
        assert [b["id"] for b in first["items"] + second["items"]] == [
            b.id for b in reversed(made)]

    async def test_the_detail_names_both_parties(self, pets, client, resources):
        owner = await create_user(resources, screenname="ana")
        sitter = await create_user(resources, screenname="sol")
        booking = await create_booking(resources, owner_id=owner,
                                       listing=await create_listing(resources, sitter_id=sitter))
        await act_as(pets, client, resources, owner)
        detail = (await pets.get(f"/bookings/{booking.id}")).json()
        assert (detail["ownerScreenname"], detail["sitterScreenname"]) == ("ana", "sol")
        assert detail["startDate"] == FIRST_NIGHT.isoformat() and detail["nights"] == 3


def test_every_booking_endpoint_is_in_the_matrix():
    from panamia.pets.bookings.routes import router

    steps = {r.path.rsplit("/", 1)[-1] for r in router.routes if r.path.count("/") == 3}
    assert steps == set(MATRIX) - {"get"}
