"""The pages as a browser without JavaScript meets them: browse, list an item, see when it
is taken in the owner's zone, ask for a time (a taken one shows the form again with the
calendar), and take the steps of "my rentals"."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text

from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import create_user, sign_in_as
from tests.rentals.factories import MORNING, available, create_item, create_rental, fund


async def test_an_anonymous_visitor_browses_but_is_asked_to_sign_in_to_lend(rentals, resources):
    await create_item(resources, title="Camping <tent>", category="outdoors")
    home = await rentals.get("/", headers=BROWSER)
    assert home.status_code == 200 and "Camping &lt;tent&gt;" in home.text
    assert "$5.00 per hour" in text_of(home.text)
    form = await rentals.get("/items/new", headers=BROWSER)
    assert form.status_code == 401 and "Sign in on Pana MIA" in form.text


async def test_a_member_lists_an_item_from_the_form(rentals, resources):
    await sign_in_as(rentals, resources, await create_user(resources))
    refused = await submit(rentals, "/items/new", {"title": "Bike", "category": "bikes",
                                                   "price": "abc", "priceUnit": "day",
                                                   "timezone": "America/Chicago"})
    assert refused.status_code == 422 and "Price" in text_of(refused.text)
    listed = await submit(rentals, "/items/new", {
        "title": "Bike", "category": "bikes", "price": "12", "priceUnit": "day",
        "minUnits": "1", "bufferMinutes": "60", "deposit": "30", "currency": "USD",
        "timezone": "America/Chicago"})
    assert listed.status_code == 303
    page = await rentals.get(listed.headers["location"], headers=BROWSER)
    assert "$12.00 per day · deposit $30.00" in text_of(page.text)
    assert "all times in America/Chicago" in text_of(page.text)


async def test_the_item_page_shows_the_taken_hours_in_the_owners_zone(rentals, resources):
    item = await create_item(resources, buffer_minutes=30)
    await create_rental(resources, item=item, start=MORNING - timedelta(days=20), hours=3)
    page = text_of((await rentals.get(f"/items/{item.id}", headers=BROWSER)).text)
    assert "10:00–13:00 rented; 13:00–13:30 turnaround" in page
    assert "free all day" in page


async def test_asking_for_a_taken_time_shows_the_form_again(rentals, resources):
    item = await create_item(resources)
    day = MORNING - timedelta(days=20)
    await create_rental(resources, item=item, start=day, hours=3)
    renter = await create_user(resources)
    await sign_in_as(rentals, resources, renter)
    page = f"/items/{item.id}"
    taken = await submit(rentals, f"/items/{item.id}/rent", {
        "startsAt": f"{day:%Y-%m-%dT}13:30", "endsAt": f"{day:%Y-%m-%dT}15:00"}, page=page)
    assert taken.status_code == 409 and "That time was just taken" in taken.text
    assert f'value="{day:%Y-%m-%dT}13:30"' in taken.text
    skipped = await submit(rentals, f"/items/{item.id}/rent", {
        "startsAt": "2027-03-14T02:30", "endsAt": "2027-03-14T05:00"}, page=page)
    assert skipped.status_code == 422 and "the clocks skip that hour" in skipped.text
    sent = await submit(rentals, f"/items/{item.id}/rent", {
        "startsAt": f"{day:%Y-%m-%dT}14:00", "endsAt": f"{day:%Y-%m-%dT}16:00"}, page=page)
    assert sent.status_code == 303 and sent.headers["location"].endswith("/rentals")


async def test_the_owner_confirms_and_takes_the_return_from_my_rentals(rentals, resources):
    item = await create_item(resources, price=Decimal("5.00"), deposit=Decimal("40.00"))
    rental = await create_rental(resources, item=item, hours=2)
    await sign_in_as(rentals, resources, item.owner_id)
    mine = text_of((await rentals.get("/rentals", headers=BROWSER)).text)
    assert "Things I lend" in mine and "Confirm" in mine and "Requested" in mine
    for step in ("confirm", "pick_up", "return"):
        done = await submit(rentals, f"/rentals/{rental.id}/step", {"step": step},
                            page="/rentals")
        assert done.status_code == 303, done.text
    assert await available(resources, item.owner_id) == Decimal("9.00")
    again = await submit(rentals, f"/rentals/{rental.id}/step", {"step": "return"},
                         page="/rentals")
    assert again.status_code == 409 and "Not done: The rental is returned" in text_of(again.text)


async def test_a_renter_short_of_money_is_named_when_the_owner_confirms(rentals, resources):
    item = await create_item(resources, deposit=Decimal("900.00"))
    renter = await create_user(resources)
    await fund(resources, renter, "10.00")
    rental = await create_rental(resources, item=item, renter_id=renter)
    await sign_in_as(rentals, resources, item.owner_id)
    refused = await submit(rentals, f"/rentals/{rental.id}/step", {"step": "confirm"},
                           page="/rentals")
    assert refused.status_code == 409
    assert "cannot cover the fee and deposit" in text_of(refused.text)
    async with resources.db.begin() as db:
        status = await db.execute(text("SELECT status FROM rentals WHERE id = :id"),
                                  {"id": rental.id})
        assert status.scalar_one() == "requested"


async def test_the_owner_closes_the_item_to_new_requests_and_opens_it_again(rentals, resources):
    item = await create_item(resources)
    await sign_in_as(rentals, resources, item.owner_id)
    closed = await submit(rentals, f"/items/{item.id}/available", {}, page=f"/items/{item.id}")
    assert closed.status_code == 303
    page = text_of((await rentals.get(f"/items/{item.id}", headers=BROWSER)).text)
    assert "takes no new requests right now" in page and "Take requests again" in page
    opened = await submit(rentals, f"/items/{item.id}/available", {"available": "on"},
                          page=f"/items/{item.id}")
    assert opened.status_code == 303
    assert "Stop taking requests" in (await rentals.get(f"/items/{item.id}", headers=BROWSER)).text
