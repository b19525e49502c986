"""A refused account deletion says what blocks it, with a link to each; the confirmation page
says what goes with the account."""

from datetime import date

from markupsafe import escape

from panamia.identity.models import User
from panamia.sidecar import registry
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.pets.factories import create_listing, insert_booking
from tests.rentals.factories import create_item, create_rental



def bookings_page(resources) -> str:
    return resources.settings.pets_url.rstrip("/") + "/bookings"


async def with_bookings(resources) -> str:
    """A member who booked one stay (confirmed) and has a request for their own listing
    (pending), and a finished stay that blocks nothing."""
    member = await create_user(resources, screenname="jean")
    elsewhere = await create_listing(resources, title="Casa Verde")
    await insert_booking(resources, elsewhere, owner_id=member, start_date=date(2027, 3, 1))
    own = await create_listing(resources, sitter_id=member, title="Jean's yard")
    await insert_booking(resources, own, status="pending", start_date=date(2027, 4, 10),
                         end_date=date(2027, 4, 12))
    await insert_booking(resources, elsewhere, owner_id=member, status="completed",
                         start_date=date(2026, 1, 5))
    return member


EXPECTED = [
    "Your booking of Casa Verde, March 1 to March 4, 2027, confirmed",
    "A booking of your listing Jean's yard, April 10 to April 12, 2027, waiting for an answer",
]


async def test_the_api_names_each_blocking_booking_with_its_address(client, resources,
                                                                    connection):
    member = await with_bookings(resources)
    await sign_in_as(client, resources, member)
    listed = await client.get("/api/account/blockers")
    url = bookings_page(resources)
    assert listed.json() == [{"what": what, "url": url} for what in EXPECTED]

    refused = await client.delete("/api/account", headers=await csrf_headers(client))
    assert refused.status_code == 409
    assert refused.json()["error"] == "active bookings"
    detail = refused.json()["detail"]
    assert detail.startswith("You have pending or confirmed pet-sitting bookings.")
    assert all(f"{what}: {url}." in detail for what in EXPECTED)
    assert await connection.scalar(User.__table__.select().with_only_columns(
        User.id).where(User.id == member)) == member


async def test_the_pages_list_the_bookings_before_and_after_trying(client, resources):
    member = await with_bookings(resources)
    await sign_in_as(client, resources, member)
    page = await client.get("/account/delete", headers=BROWSER)
    assert "Your account cannot be deleted yet" in text_of(page.text)
    assert "Yes, delete my account" not in page.text
    for what in EXPECTED:
        assert f'<a href="{bookings_page(resources)}">{escape(what)}</a>' in page.text

    refused = await submit(client, "/account/delete", {}, page="/account")
    assert refused.status_code == 409
    told = text_of(refused.text)
    assert "Cancel them, or let them finish, before deleting your account." in told
    assert all(what in told for what in EXPECTED)
    assert "Something changed meanwhile" not in told


async def test_the_confirmation_says_what_goes(client, resources):
    await sign_in_as(client, resources, await create_user(resources))
    assert (await client.get("/api/account/blockers")).json() == []
    page = text_of((await client.get("/account/delete", headers=BROWSER)).text)
    for goes in ("your profile, your photos and your notifications", "your listings",
                 "whom you follow and who follows you, and the articles you liked",
                 "Articles you published stay"):
        assert goes in page


async def test_money_in_flight_is_named_with_the_rental_it_is_in(client, resources):
    owner = await create_user(resources)
    item = await create_item(resources, owner_id=owner, title="Ladder")
    await create_rental(resources, item=item, status="confirmed")
    await sign_in_as(client, resources, owner)
    refused = await submit(client, "/account/delete", {}, page="/account")
    assert refused.status_code == 409
    told = text_of(refused.text)
    assert "Your account cannot be deleted while you have a rental not yet settled." in told
    rentals_page = registry.find("rentals").url(resources.settings).rstrip("/") + "/rentals"
    assert f'href="{rentals_page}">The rental of your Ladder on ' in refused.text
    assert "not yet settled</a>" in refused.text
