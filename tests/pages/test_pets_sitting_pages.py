"""The sitter's and the owner's journeys over HTTP, as a browser without JavaScript makes
them: My sitting, asking before declining or cancelling, searches of bad or past dates,
asking again for your own nights, the listing form's choices, and names that link only to
public profiles."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from panamia.pets.listings import service as listings_service
from panamia.pets.models import Booking
from panamia.pets.reviews.models import Review
from tests.fixtures.http import BROWSER, form_token, signed_in_member, text_of
from tests.identity.factories import create_user, sign_in_as
from tests.pets.factories import create_listing, insert_booking
from tests.profiles.factories import create_member

TODAY = datetime.now(UTC).date()
SOON = TODAY + timedelta(days=30)


async def send(pets, action: str, data: dict, *, page: str):
    token = await form_token(pets, page)
    return await pets.post(action, data={**data, "csrfToken": token}, headers=BROWSER)


async def status_of(resources, booking_id: str) -> str:
    async with resources.reads() as db:
        return (await db.execute(select(Booking.status).where(Booking.id == booking_id))
                ).scalar_one()


def listing_form(**fields) -> dict:
    return {"title": "Sunny flat", "pricePerDay": "$35", "currency": "USD",
            "services": "boarding", "species": "dog", "maxPets": "1", "city": "Tempe",
            "zip": "85281", "timezone": ""} | fields


class TestMySitting:
    async def test_a_new_sitter_finds_their_listing_and_the_request_waiting(self, pets,
                                                                            resources):
        sitter = await signed_in_member(pets, resources)
        empty = await pets.get("/sitting", headers=BROWSER)
        assert "You offer no pet sitting yet" in text_of(empty.text)

        created = await send(pets, "/listings/new", listing_form(), page="/listings/new")
        assert created.status_code == 303
        listing_id = created.headers["location"].rsplit("/", 1)[-1]
        listing = await listings_service.get_listing(resources, listing_id)
        assert (listing.price_per_day, listing.timezone) == (35, "America/Phoenix")

        owner = await create_user(resources, screenname="ana")
        asked = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        booking = await insert_booking(resources, listing, owner_id=owner, status="pending",
                                       start_date=SOON, created_at=asked)
        page = await pets.get("/sitting", headers=BROWSER)

        shown = text_of(page.text)
        assert "Sunny flat" in shown and f'href="/listings/{listing_id}/edit"' in page.text
        # 48 hours after the request, in the listing's time zone (Phoenix: UTC-7 all year).
        deadline = asked + timedelta(hours=48) - timedelta(hours=7)
        assert f"Answer by {deadline:%a %-d %b, %-I:00 %p}" in shown
        assert f'href="/bookings/{booking}/step?step=decline' in page.text
        assert listing.sitter_id == sitter

    async def test_my_bookings_leads_to_my_sitting_not_a_second_listing(self, pets, resources):
        await signed_in_member(pets, resources)
        page = await pets.get("/bookings", headers=BROWSER)
        assert 'href="/sitting"' in page.text and 'href="/listings/new"' not in page.text


class TestAskFirst:
    async def test_decline_asks_first_saying_what_it_does(self, pets, resources):
        listing = await create_listing(resources)
        owner = await create_user(resources, screenname="ana", name="Ana")
        booking = await insert_booking(resources, listing, owner_id=owner, status="pending",
                                       start_date=SOON, created_at=datetime.now(UTC))
        await sign_in_as(pets, resources, listing.sitter_id)
        ask = f"/bookings/{booking}/step?step=decline&back=/sitting"

        page = await pets.get(ask, headers=BROWSER)

        shown = text_of(page.text)
        assert page.status_code == 200 and await status_of(resources, booking) == "pending"
        assert f"Decline @ana’s request for {SOON:%a} {SOON.day} {SOON:%b %Y}" in shown
        assert "Ana will be told, and those nights become free again" in shown
        done = await send(pets, f"/bookings/{booking}/step",
                          {"step": "decline", "back": "/sitting"}, page=ask)
        assert done.status_code == 303 and done.headers["location"] == "/sitting"
        assert await status_of(resources, booking) == "declined"

    async def test_cancel_asks_the_owner_too(self, pets, resources):
        listing = await create_listing(resources)
        owner = await create_user(resources)
        booking = await insert_booking(resources, listing, owner_id=owner, start_date=SOON)
        await sign_in_as(pets, resources, owner)
        page = await pets.get(f"/bookings/{booking}/step?step=cancel", headers=BROWSER)
        assert "Cancel the booking for" in text_of(page.text)
        assert "already confirmed" in text_of(page.text)
        assert await status_of(resources, booking) == "confirmed"

    async def test_a_stranger_sees_nothing_and_other_steps_are_not_asked(self, pets,
                                                                         resources):
        listing = await create_listing(resources)
        booking = await insert_booking(resources, listing, status="pending", start_date=SOON)
        await signed_in_member(pets, resources)
        hidden = await pets.get(f"/bookings/{booking}/step?step=decline", headers=BROWSER)
        assert hidden.status_code == 404
        await sign_in_as(pets, resources, listing.sitter_id)
        odd = await pets.get(f"/bookings/{booking}/step?step=confirm", headers=BROWSER)
        assert odd.status_code == 400


class TestSearchDates:
    async def test_past_dates_show_the_message_and_no_one(self, pets, resources):
        listing = await create_listing(resources, title="Free in Miami")
        page = await pets.get("/", headers=BROWSER, params={
            "from": (TODAY - timedelta(5)).isoformat(), "to": (TODAY + timedelta(2)).isoformat()})
        assert page.status_code == 422
        message = re.search(r'id="from-error">([^<]+)<', page.text)
        assert message and message.group(1) == "This day has passed; search from today on."
        assert listing.title not in page.text
        assert "Correct the dates above" in text_of(page.text)

    async def test_check_out_before_the_first_night_lists_no_one(self, pets, resources):
        listing = await create_listing(resources)
        page = await pets.get("/", headers=BROWSER, params={
            "from": SOON.isoformat(), "to": (SOON - timedelta(2)).isoformat()})
        assert page.status_code == 422 and 'id="to-error"' in page.text
        assert listing.title not in page.text and "[" not in text_of(page.text)


class TestOwnPendingRequest:
    async def test_asking_again_links_to_your_request(self, pets, resources):
        listing = await create_listing(resources)
        await signed_in_member(pets, resources)
        here = f"/listings/{listing.id}"
        form = {"startDate": SOON.isoformat(), "endDate": (SOON + timedelta(3)).isoformat(),
                "pets.0.name": "Luna", "pets.0.species": "dog"}
        first = await send(pets, f"{here}/book", form, page=here)
        assert first.status_code == 303

        again = await send(pets, f"{here}/book", form | {
            "startDate": (SOON + timedelta(1)).isoformat()}, page=here)

        assert again.status_code == 409
        shown = text_of(again.text)
        assert "You already asked for some of these nights" in shown
        assert "just taken" not in shown
        async with resources.reads() as db:
            mine = (await db.execute(select(Booking.id))).scalar_one()
        assert f'href="/bookings/{mine}"' in again.text


class TestListingForm:
    async def test_choices_start_from_the_members_place(self, pets, resources):
        member = await create_member(resources, location={"city": "Austin", "state": "TX",
                                                          "zip": "73301"})
        await sign_in_as(pets, resources, member)
        page = await pets.get("/listings/new", headers=BROWSER)
        assert '<select id="currency" name="currency"' in page.text
        assert '<option value="America/Chicago" selected>' in page.text
        assert 'value="Austin, TX"' in page.text and "IANA" not in page.text

    async def test_a_zone_nobody_chose_and_no_place_tells_is_asked_for(self, pets, resources):
        await signed_in_member(pets, resources)
        refused = await send(pets, "/listings/new",
                             listing_form(city="Atlantis", zip="", maxPets="0"),
                             page="/listings/new")
        assert refused.status_code == 422
        message = re.search(r'id="timezone-error">([^<]+)<', refused.text)
        assert message and message.group(1).startswith("Choose your time zone")
        pets_message = re.search(r'id="maxPets-error">([^<]+)<', refused.text)
        assert pets_message and pets_message.group(1) == "Enter a number from 1 to 20."
        assert "Input should" not in refused.text


class TestNamesLinkToPublicProfilesOnly:
    async def test_public_linked_unlisted_not(self, pets, resources):
        public = await create_member(resources, screenname="tomas", active=True)
        unlisted = await create_member(resources, screenname="rosa", active=False)
        shown = await create_listing(resources, sitter_id=public)
        hidden = await create_listing(resources, sitter_id=unlisted)

        linked = await pets.get(f"/listings/{shown.id}", headers=BROWSER)
        plain = await pets.get(f"/listings/{hidden.id}", headers=BROWSER)

        assert f'href="{resources.settings.auth_url}/people/tomas"' in linked.text
        assert "@rosa" in plain.text and "/people/rosa" not in plain.text


class TestProfileSection:
    async def test_a_sitters_profile_shows_their_rating_and_listings(self, client, resources):
        sitter = await create_member(resources, screenname="tomas", active=True)
        listing = await create_listing(resources, sitter_id=sitter, title="Garden and walks")
        owner = await create_user(resources, screenname="ana")
        booking = await insert_booking(resources, listing, owner_id=owner, status="completed")
        async with resources.db.begin() as db:
            await db.execute(insert(Review).values(booking_id=booking, author_id=owner,
                                                   listing_id=listing.id, rating=4,
                                                   text="Came back happy."))

        page = await client.get("/people/tomas", headers=BROWSER)

        shown = text_of(page.text)
        assert re.search(r"Pet sitting 4\.0 out of 5 \W* from 1 review", shown), shown
        assert "Came back happy." in shown and "@ana" in shown
        assert f'href="{resources.settings.pets_url}/listings/{listing.id}"' in page.text

    async def test_no_section_for_a_member_who_sits_for_no_one(self, client, resources):
        await create_member(resources, screenname="rosa", active=True)
        page = await client.get("/people/rosa", headers=BROWSER)
        assert page.status_code == 200 and "Pet sitting</h2>" not in page.text


    async def test_a_listing_shows_its_sitters_rating_over_all_their_listings(self, pets,
                                                                             resources):
        sitter = await create_user(resources, screenname="tomas")
        new = await create_listing(resources, sitter_id=sitter, title="New flat")
        older = await create_listing(resources, sitter_id=sitter, title="Garden")
        owner = await create_user(resources)
        for rating in (5, 4):
            booking = await insert_booking(resources, older, owner_id=owner,
                                           status="completed")
            async with resources.db.begin() as db:
                await db.execute(insert(Review).values(booking_id=booking, author_id=owner,
                                                       listing_id=older.id, rating=rating))

        page = await pets.get(f"/listings/{new.id}", headers=BROWSER)

        shown = text_of(page.text)
        assert "No reviews yet." in shown
        assert "Over all their listings, @tomas has 4.5 out of 5 from 2 reviews." in shown
