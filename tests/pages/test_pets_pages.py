"""The pets sidecar's pages over HTTP, as a browser without JavaScript uses them."""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from panamia.pets.models import Booking
from panamia.pets.bookings.service import local_today
from panamia.pets.bookings.states import TRANSITIONS
from panamia.pets.listings import service as listings_service
from panamia.pets.listings.schemas import BlackoutCreate
from panamia.pets.bookings.pages import BUTTONS, PERSON_STEPS, allowed
from panamia.pets.pages import TAKEN
from tests.fixtures.http import BROWSER, csrf_token, form_token, signed_in_member, text_of
from tests.identity.factories import create_user, sign_in_as
from tests.pets.factories import create_listing, insert_booking
from tests.profiles.factories import principal

TODAY = datetime.now(UTC).date()
SOON = TODAY + timedelta(days=30)


def day_state(html: str, day: date) -> str | None:
    found = re.search(rf'data-date="{day.isoformat()}" data-state="(\w+)"', html)
    return found.group(1) if found else None


def buttons_of(html: str, booking_id: str) -> set[str]:
    """The steps a booking's row offers: buttons, and links to the page that asks first."""
    form = re.search(rf'action="/bookings/{booking_id}/step".*?</form>', html, re.S)
    found = re.findall(r'name="step" value="(\w+)"|/step\?step=(\w+)', form.group(0)
                       ) if form else []
    return {button or link for button, link in found}


async def send(pets, action: str, data: dict, *, page: str):
    token = await form_token(pets, page)
    return await pets.post(action, data={**data, "csrfToken": token}, headers=BROWSER)


def request_form(start: date, end: date, **extra) -> dict:
    return {"startDate": start.isoformat(), "endDate": end.isoformat(), "pets.0.name": "Luna",
            "pets.0.species": "dog", "note": "She likes the park", **extra}


class TestSearch:
    async def test_lists_listings_free_for_the_dates_in_the_city(self, pets, resources):
        free = await create_listing(resources, title="Free in Miami", city="Miami")
        taken = await create_listing(resources, title="Taken in Miami", city="Miami")
        await create_listing(resources, title="Elsewhere", city="Tampa")
        await insert_booking(resources, taken, start_date=SOON, end_date=SOON + timedelta(3))

        page = await pets.get("/", params={"from": SOON.isoformat(),
                                           "to": (SOON + timedelta(2)).isoformat(),
                                           "city": "miami"}, headers=BROWSER)

        assert page.status_code == 200
        shown = text_of(page.text)
        assert free.title in shown and "Taken in Miami" not in shown and "Elsewhere" not in shown
        assert f'href="/listings/{free.id}?from={SOON.isoformat()}' in page.text

    async def test_a_bad_date_is_explained_and_kept(self, pets):
        page = await pets.get("/", params={"from": "next friday", "city": "Miami"},
                              headers=BROWSER)
        assert page.status_code == 422
        assert "Enter a date like" in page.text and 'value="Miami"' in page.text

    async def test_api_clients_still_get_json_on_the_same_paths(self, pets, resources):
        listing = await create_listing(resources)
        assert (await pets.get(f"/listings/{listing.id}")).json()["id"] == listing.id
        html = await pets.get(f"/listings/{listing.id}", headers=BROWSER)
        assert html.headers["content-type"].startswith("text/html")
        assert (await pets.get("/bookings")).json()["error"]  # 401 envelope, not a page


class TestCalendar:
    async def test_marks_booked_and_blocked_nights_across_month_ends(self, pets, resources):
        # Three months in a row, the first ending at least four weeks from today.
        second = (TODAY + timedelta(days=40)).replace(day=1)
        first = (second - timedelta(days=1)).replace(day=1)
        third = (second + timedelta(days=32)).replace(day=1)
        listing = await create_listing(resources)
        await insert_booking(resources, listing, start_date=second - timedelta(days=2),
                             end_date=second + timedelta(days=1), note="private: key under the mat")
        await listings_service.add_blackout(
            resources, principal(listing.sitter_id), listing.id,
            BlackoutCreate(start_date=third - timedelta(days=3),
                           end_date=third + timedelta(days=1)))

        before, during, after = [
            (await pets.get(f"/listings/{listing.id}?month={month:%Y-%m}", headers=BROWSER)).text
            for month in (first, second, third)
        ]

        assert [day_state(before, second - timedelta(days=d)) for d in (3, 2, 1)] == \
            ["free", "booked", "booked"]
        assert [day_state(during, second + timedelta(days=d)) for d in (0, 1)] == ["booked", "free"]
        assert [day_state(during, third - timedelta(days=d)) for d in (4, 3, 1)] == \
            ["free", "blocked", "blocked"]
        assert [day_state(after, third + timedelta(days=d)) for d in (0, 1)] == ["blocked", "free"]
        assert f"<caption>{second:%B %Y}" in during and "sitter away" in text_of(during)
        assert f'href="?month={third:%Y-%m}#calendar"' in during  # no JavaScript needed to move on
        assert "key under the mat" not in before + during  # nothing about who booked

    async def test_past_days_say_so(self, pets, resources):
        listing = await create_listing(resources)
        page = (await pets.get(f"/listings/{listing.id}", headers=BROWSER)).text
        today = local_today(listing.timezone, datetime.now(UTC))  # the sitter's today
        if today.day > 1:
            assert day_state(page, today - timedelta(1)) == "past"
        assert day_state(page, today) == "free"


class TestRequestBooking:
    async def test_the_form_works_without_javascript(self, pets, resources):
        listing = await create_listing(resources)
        owner = await signed_in_member(pets, resources)
        page = f"/listings/{listing.id}"

        sent = await send(pets, f"{page}/book", request_form(SOON, SOON + timedelta(3)),
                          page=page)

        assert (sent.status_code, sent.headers["location"]) == (303, "/bookings")
        mine = await pets.get("/bookings", headers=BROWSER)
        assert "Request sent" in mine.text and "$135.00" in mine.text
        async with resources.reads() as db:
            booking = (await db.execute(select(Booking).where(
                Booking.owner_id == owner))).scalar_one()
        assert (booking.status, booking.note) == ("pending", "She likes the park")

    async def test_the_form_needs_its_csrf_token(self, pets, resources):
        listing = await create_listing(resources)
        await signed_in_member(pets, resources)
        await form_token(pets, f"/listings/{listing.id}")
        refused = await pets.post(f"/listings/{listing.id}/book",
                                  data=request_form(SOON, SOON + timedelta(3)), headers=BROWSER)
        assert refused.status_code == 403 and "reload the page" in refused.text

    async def test_taken_nights_get_a_friendly_page_that_keeps_what_was_typed(
        self, pets, resources,
    ):
        listing = await create_listing(resources)
        await insert_booking(resources, listing, start_date=SOON, end_date=SOON + timedelta(3),
                             status="pending")
        await signed_in_member(pets, resources)
        page = f"/listings/{listing.id}"

        answer = await send(pets, f"{page}/book", request_form(
            SOON + timedelta(1), SOON + timedelta(4), note="Two <b>walks</b> a day"), page=page)

        assert answer.status_code == 409
        assert TAKEN in text_of(answer.text)
        assert 'value="Luna"' in answer.text
        assert "Two &lt;b&gt;walks&lt;/b&gt; a day" in answer.text
        assert f'value="{(SOON + timedelta(1)).isoformat()}"' in answer.text
        assert day_state(answer.text, SOON + timedelta(1)) == "booked"

    async def test_mistakes_are_shown_beside_the_fields(self, pets, resources):
        listing = await create_listing(resources, species=["cat"])
        await signed_in_member(pets, resources)
        page = f"/listings/{listing.id}"
        no_pets = await send(pets, f"{page}/book", {"startDate": SOON.isoformat(),
                                                    "endDate": "", "note": "hi"}, page=page)
        assert no_pets.status_code == 422
        assert "Name at least one pet." in no_pets.text and "Enter a date" in no_pets.text
        dog = await send(pets, f"{page}/book", request_form(SOON, SOON + timedelta(2)),
                         page=page)
        assert dog.status_code == 422 and "does not take dog" in dog.text

    async def test_signed_out_people_get_a_link_to_sign_in_on_the_main_app(
        self, pets, resources, settings,
    ):
        listing = await create_listing(resources)
        page = await pets.get(f"/listings/{listing.id}", headers=BROWSER)
        link = re.search(r'href="(http://testserver/signin\?[^"]+)">Sign in to book',
                         page.text).group(1)
        back = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["callbackUrl"]
        assert back == [f"{settings.pets_url}/listings/{listing.id}"]

        mine = await pets.get("/bookings?x=1", headers=BROWSER)
        assert mine.status_code == 401
        assert "callbackUrl=http%3A%2F%2Fpets.testserver%2Fbookings%3Fx%3D1" in mine.text


class TestMyBookings:
    async def test_buttons_match_the_declared_transitions(self, pets, resources):
        listing = await create_listing(resources)
        owner = await create_user(resources)
        past = TODAY - timedelta(10)
        ids = {
            "pending": await insert_booking(resources, listing, owner_id=owner, status="pending",
                                            start_date=SOON, end_date=SOON + timedelta(2)),
            "confirmed": await insert_booking(resources, listing, owner_id=owner,
                                              start_date=SOON + timedelta(5),
                                              end_date=SOON + timedelta(7)),
            "ended": await insert_booking(resources, listing, owner_id=owner,
                                          start_date=past, end_date=past + timedelta(3)),
            "completed": await insert_booking(resources, listing, owner_id=owner,
                                              status="completed", start_date=past - timedelta(9),
                                              end_date=past - timedelta(7)),
            "declined": await insert_booking(resources, listing, owner_id=owner,
                                             status="declined", start_date=SOON,
                                             end_date=SOON + timedelta(1)),
        }
        await sign_in_as(pets, resources, listing.sitter_id)
        as_sitter = (await pets.get("/bookings", headers=BROWSER)).text
        await sign_in_as(pets, resources, owner)
        as_owner = (await pets.get("/bookings", headers=BROWSER)).text

        assert buttons_of(as_sitter, ids["pending"]) == {"confirm", "decline", "cancel"}
        assert buttons_of(as_owner, ids["pending"]) == {"cancel"}
        assert buttons_of(as_sitter, ids["confirmed"]) == {"cancel"}
        assert buttons_of(as_sitter, ids["ended"]) == {"complete"}
        assert buttons_of(as_owner, ids["ended"]) == set()
        assert buttons_of(as_sitter, ids["declined"]) == set()
        assert f'href="/bookings/{ids["completed"]}/review"' in as_owner
        assert f'href="/bookings/{ids["completed"]}/review"' not in as_sitter
        # Every button is a declared transition a person may start, and nothing else.
        assert set(BUTTONS) == {t.name for t in PERSON_STEPS} == set(TRANSITIONS) - {"expire"}

    def test_allowed_reads_the_declaration(self):
        class Item:
            status, start_date, end_date = "pending", SOON, SOON + timedelta(1)
            created_at = datetime.now(UTC) - timedelta(hours=49)

        now = datetime.now(UTC)
        assert not allowed(TRANSITIONS["confirm"], Item, "sitter", "UTC", now)  # expired
        assert allowed(TRANSITIONS["decline"], Item, "sitter", "UTC", now)
        assert not allowed(TRANSITIONS["decline"], Item, "owner", "UTC", now)

    async def test_confirm_then_a_late_decline_is_explained(self, pets, resources):
        listing = await create_listing(resources)
        booking = await insert_booking(resources, listing, status="pending", start_date=SOON)
        await sign_in_as(pets, resources, listing.sitter_id)

        done = await send(pets, f"/bookings/{booking}/step", {"step": "confirm"},
                          page="/bookings")
        assert (done.status_code, done.headers["location"]) == (303, "/bookings")
        assert "Booking confirmed" in (await pets.get("/bookings", headers=BROWSER)).text
        late = await send(pets, f"/bookings/{booking}/step", {"step": "decline"},
                          page="/bookings")
        assert late.status_code == 409
        assert "The booking is confirmed; only a pending booking can be declined" in late.text

    async def test_a_stranger_cannot_act_on_a_booking(self, pets, resources):
        listing = await create_listing(resources)
        booking = await insert_booking(resources, listing, status="pending", start_date=SOON)
        await signed_in_member(pets, resources)
        answer = await send(pets, f"/bookings/{booking}/step", {"step": "cancel"},
                            page="/bookings")
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


class TestReview:
    async def test_review_a_completed_stay_once(self, pets, resources):
        listing = await create_listing(resources)
        owner = await create_user(resources, screenname="rosa")
        booking = await insert_booking(resources, listing, owner_id=owner, status="completed",
                                       start_date=TODAY - timedelta(9),
                                       end_date=TODAY - timedelta(6))
        await sign_in_as(pets, resources, owner)
        form = f"/bookings/{booking}/review"

        missing = await send(pets, form, {"text": "Lovely <script>x</script>"}, page=form)
        assert missing.status_code == 422 and "Choose from 1 to 5 stars." in missing.text
        assert "Lovely &lt;script&gt;x&lt;/script&gt;" in missing.text

        sent = await send(pets, form, {"rating": "4", "text": "Lovely <script>x</script>"},
                          page=form)
        assert sent.status_code == 303
        shown = await pets.get(sent.headers["location"].split("#")[0], headers=BROWSER)
        assert "4.0 out of 5" in text_of(shown.text) and "@rosa" in shown.text
        assert "<script>x" not in shown.text

        token = await form_token(pets, "/bookings")
        again = await pets.post(form, data={"rating": "5", "csrfToken": token}, headers=BROWSER)
        assert again.status_code == 409 and "reviewed this stay already" in again.text
        assert f'href="/bookings/{booking}/review"' not in (
            await pets.get("/bookings", headers=BROWSER)).text
        # The form is offered no more.
        reviewed = await pets.get(form, headers=BROWSER)
        assert reviewed.status_code == 409 and 'name="rating"' not in reviewed.text
        assert "You have reviewed this stay already" in text_of(reviewed.text)

    async def test_no_review_form_before_the_stay_is_completed(self, pets, resources):
        listing = await create_listing(resources)
        owner = await create_user(resources)
        booking = await insert_booking(resources, listing, owner_id=owner, status="confirmed")
        await sign_in_as(pets, resources, owner)
        page = await pets.get(f"/bookings/{booking}/review", headers=BROWSER)
        assert page.status_code == 409 and 'name="rating"' not in page.text
        assert "once the sitter marks it completed" in text_of(page.text)


class TestSitterPages:
    async def test_create_a_listing_with_a_mistake_first(self, pets, resources):
        await signed_in_member(pets, resources)
        data = {"title": "", "pricePerDay": "40.5", "services": ["boarding", "dog_walking"],
                "species": ["dog"], "maxPets": "2", "city": "Hialeah",
                "description": "<img src=x onerror=alert(1)>", "timezone": "America/New_York"}
        wrong = await send(pets, "/listings/new", data, page="/listings/new")
        assert wrong.status_code == 422 and "Fill this in." in wrong.text
        assert 'value="dog_walking" checked' in wrong.text and 'value="Hialeah"' in wrong.text

        made = await send(pets, "/listings/new", {**data, "title": "Tom & <Jerry>'s"},
                          page="/listings/new")
        assert made.status_code == 303
        page = (await pets.get(made.headers["location"], headers=BROWSER)).text
        assert "Tom &amp; &lt;Jerry&gt;" in page and "$40.50" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
        assert "Nights you are away" in page  # its sitter manages blackouts here

    async def test_edit_and_hide_a_listing(self, pets, resources):
        listing = await create_listing(resources)
        await sign_in_as(pets, resources, listing.sitter_id)
        form = f"/listings/{listing.id}/edit"
        page = (await pets.get(form, headers=BROWSER)).text
        assert 'value="45.00"' in page and f'value="{listing.title}"' in page
        saved = await send(pets, form, {"title": "New title", "pricePerDay": "50",
                                        "currency": "USD", "maxPets": "1", "city": "Miami",
                                        "timezone": "America/New_York",
                                        "services": ["boarding"], "species": ["cat"]},
                           page=form)
        assert saved.status_code == 303
        found = await listings_service.get_listing(resources, listing.id)
        assert (found.title, found.available, found.species) == ("New title", False, ["cat"])

    async def test_only_the_sitter_edits(self, pets, resources):
        listing = await create_listing(resources)
        await signed_in_member(pets, resources)
        assert (await pets.get(f"/listings/{listing.id}/edit", headers=BROWSER)).status_code \
            == 403

    async def test_block_and_unblock_nights(self, pets, resources):
        listing = await create_listing(resources)
        await insert_booking(resources, listing, start_date=SOON, end_date=SOON + timedelta(2))
        await sign_in_as(pets, resources, listing.sitter_id)
        page = f"/listings/{listing.id}"

        over = await send(pets, f"{page}/blackouts/add", {
            "startDate": (SOON + timedelta(1)).isoformat(),
            "endDate": (SOON + timedelta(5)).isoformat()}, page=page)
        assert over.status_code == 409 and "settle the booking" in over.text
        blocked = await send(pets, f"{page}/blackouts/add", {
            "startDate": (SOON + timedelta(2)).isoformat(),
            "endDate": (SOON + timedelta(5)).isoformat()}, page=page)
        assert blocked.status_code == 303
        shown = (await pets.get(blocked.headers["location"], headers=BROWSER)).text
        assert day_state(shown, SOON + timedelta(2)) == "blocked"
        remove = re.search(r'action="(/listings/[^"]+/remove)"', shown).group(1)
        token = csrf_token(shown)
        gone = await pets.post(remove, data={"csrfToken": token}, headers=BROWSER)
        assert gone.status_code == 303
        assert day_state((await pets.get(blocked.headers["location"], headers=BROWSER)).text,
                         SOON + timedelta(2)) == "free"


async def test_pages_are_left_out_of_the_openapi_schema(pets):
    paths = (await pets.get("/openapi.json")).json()["paths"]
    assert not {"/", "/listings/new", "/listings/{listing_id}/edit"} & set(paths)


class TestDemo:
    async def test_seeding_twice_gives_every_status_once(self, pets, resources, connection):
        from sqlalchemy import func

        from panamia import demo
        from panamia.outbox.models import OutboxEvent
        from panamia.pets.reviews.models import Review

        await demo.seed(resources)
        statuses = (await connection.execute(select(Booking.status, func.count()).where(
            Booking.id.like("demo-booking-%")).group_by(Booking.status))).all()
        events = (await connection.execute(select(func.count()).select_from(OutboxEvent))) \
            .scalar_one()
        await demo.seed(resources)
        assert (await connection.execute(select(func.count()).select_from(OutboxEvent))) \
            .scalar_one() == events > 10
        assert {s for s, _ in statuses} == {"pending", "confirmed", "declined", "cancelled",
                                            "completed", "expired"}
        assert (await connection.execute(select(func.count()).select_from(Review))) \
            .scalar_one() == 2
        await sign_in_as(pets, resources, demo.user_id("ana"))
        mine = (await pets.get("/bookings", headers=BROWSER)).text
        assert "Cats among the books" in mine and "/bookings/demo-booking-5/review" in mine
        home = text_of((await pets.get("/", headers=BROWSER)).text)
        assert "Hialeah drop-ins" in home and "Beach walks" in home
