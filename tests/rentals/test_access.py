"""Who may do what, over HTTP: every step of a rental tried by its owner, its renter, another
member, an admin and an anonymous visitor; reading a rental; listing and asking."""

from decimal import Decimal

import pytest

from panamia.identity.cookies import session_cookie_name
from panamia.rentals import service
from panamia.rentals.schemas import ClaimBody
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.profiles.factories import principal
from tests.rentals.factories import body, create_item, create_rental

ACTORS = ("owner", "renter", "other", "admin", "anonymous")
# Each step: the status it starts from, and per actor the answer.
MATRIX = {
    "confirm": ("requested", (200, 403, 404, 403, 401)),
    "decline": ("requested", (200, 403, 404, 403, 401)),
    "cancel": ("requested", (200, 200, 404, 403, 401)),
    "pick-up": ("confirmed", (200, 403, 404, 403, 401)),
    "return": ("picked_up", (200, 403, 404, 403, 401)),
    "claim": ("picked_up", (200, 403, 404, 403, 401)),
    "accept-claim": ("claimed", (403, 200, 404, 403, 401)),
    "dispute": ("claimed", (403, 200, 404, 403, 401)),
    "settle": ("disputed", (403, 403, 403, 200, 401)),
}
BODIES = {"claim": {"amount": "5.00", "reason": "A scratch on the case"},
          "settle": {"ownerGets": "2.50"}}


async def act_as(client, resources, user_id: str | None) -> dict[str, str]:
    """Sign `client` in as `user_id`, or leave it signed out but holding a CSRF cookie (None);
    the CSRF header to send."""
    client.cookies.clear()
    cookies, headers = await signed_in_cookies(resources, user_id or await create_user(resources))
    for name, value in cookies.items():
        if user_id or name != session_cookie_name(resources.settings):
            client.cookies.set(name, value)
    return headers


async def rental_in(resources, status: str):
    """A rental brought to `status` by its parties; the ids of everyone involved."""
    item = await create_item(resources)
    leading = "picked_up" if status in ("claimed", "disputed") else status
    rental = await create_rental(resources, item=item, status=leading)
    if status in ("claimed", "disputed"):
        await service.transition(resources, principal(item.owner_id), rental.id, "claim",
                                 ClaimBody(amount=Decimal("10"), reason="Dented"))
    if status == "disputed":
        await service.transition(resources, principal(rental.renter_id), rental.id, "dispute")
    people = {"owner": item.owner_id, "renter": rental.renter_id,
              "other": await create_user(resources),
              "admin": await create_user(resources, email="admin@example.org"),
              "anonymous": None}
    return rental, people


@pytest.mark.parametrize("name", MATRIX)
@pytest.mark.parametrize("actor", ACTORS)
async def test_each_step_is_taken_only_by_whom_it_belongs_to(rentals, resources, name, actor):
    source, answers = MATRIX[name]
    rental, people = await rental_in(resources, source)
    headers = await act_as(rentals, resources, people[actor])
    answer = await rentals.post(f"/rentals/{rental.id}/{name}", headers=headers,
                                json=BODIES.get(name))
    expected = answers[ACTORS.index(actor)]
    assert answer.status_code == expected, answer.text
    after = await service.get_rental(resources, principal(people["owner"]), rental.id)
    assert (after.status == source) == (expected != 200)


@pytest.mark.parametrize("actor, status", zip(ACTORS, (200, 200, 404, 200, 401)))
async def test_a_rental_is_seen_by_its_parties_and_admins(rentals, resources, actor, status):
    rental, people = await rental_in(resources, "requested")
    await act_as(rentals, resources, people[actor])
    answer = await rentals.get(f"/rentals/{rental.id}")
    assert answer.status_code == status, answer.text
    if status == 200:
        assert answer.json()["itemTitle"] == "Cordless drill"


async def test_a_step_without_the_csrf_header_is_refused(rentals, resources):
    rental, people = await rental_in(resources, "requested")
    await act_as(rentals, resources, people["owner"])
    assert (await rentals.post(f"/rentals/{rental.id}/confirm")).status_code == 403


async def test_listing_and_asking_need_a_signed_in_member(rentals, resources):
    item = await create_item(resources)
    headers = await act_as(rentals, resources, None)
    assert (await rentals.post("/rentals", headers=headers, json=body(item.id))).status_code \
        == 401
    assert (await rentals.post("/items", headers=headers, json={"title": "Tent"})).status_code \
        == 401
    assert (await rentals.get("/items")).status_code == 200


async def test_a_member_lists_an_item_and_another_asks_for_it(rentals, resources):
    headers = await act_as(rentals, resources, await create_user(resources))
    listed = await rentals.post("/items", headers=headers, json={
        "title": "Party speaker", "category": "party", "price": "25.00", "priceUnit": "day",
        "deposit": "50", "bufferMinutes": 90, "timezone": "Europe/Berlin"})
    assert listed.status_code == 201, listed.text
    item = listed.json()
    assert (item["price"], item["deposit"], item["timezone"]) == ("25.00", "50.00",
                                                                   "Europe/Berlin")
    headers = await act_as(rentals, resources, await create_user(resources))
    asked = await rentals.post("/rentals", headers={**headers, "Idempotency-Key": "one"},
                               json=body(item["id"], hours=30))
    assert asked.status_code == 201, asked.text
    assert (asked.json()["fee"], asked.json()["status"]) == ("50.00", "requested")
    again = await rentals.post("/rentals", headers={**headers, "Idempotency-Key": "one"},
                               json=body(item["id"], hours=30))
    assert again.json() == asked.json() and again.headers["Idempotent-Replayed"] == "true"
    taken = await rentals.get(f"/items/{item['id']}/availability")
    assert [t["kind"] for t in taken.json()["taken"]] == ["rented", "turnaround"]


@pytest.mark.parametrize("actor, status", zip(ACTORS, (200, 403, 403, 200, 401)))
async def test_only_its_owner_or_an_admin_closes_an_item(rentals, resources, actor, status):
    rental, people = await rental_in(resources, "requested")
    headers = await act_as(rentals, resources, people[actor])
    answer = await rentals.patch(f"/items/{rental.item_id}", headers=headers,
                                 json={"available": False})
    assert answer.status_code == status, answer.text
    item = (await rentals.get(f"/items/{rental.item_id}")).json()
    assert item["available"] is (status != 200)


@pytest.mark.parametrize("change, field", [
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"price": "0"}, "price"),
    ({"priceUnit": "week"}, "priceUnit"), ({"bufferMinutes": 20000}, "bufferMinutes"),
    ({"deposit": "-1"}, "deposit"), ({"price": "1.001"}, "price"),
])
async def test_a_bad_item_is_refused_naming_the_field(rentals, resources, change, field):
    headers = await act_as(rentals, resources, await create_user(resources))
    answer = await rentals.post("/items", headers=headers, json={
        "title": "Tent", "category": "outdoors", "price": "10", "priceUnit": "day"} | change)
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["fields"]] == [field]
