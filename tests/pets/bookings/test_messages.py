"""Messages on a booking: the two parties write to each other, no one else sees the thread,
and the other party is told."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from panamia.outbox import relay
from panamia.pets.bookings.messages.models import BookingMessage
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import create_user, sign_in_as
from tests.pets.bookings.factories import create_booking
from tests.pets.factories import act_as, create_listing, insert_booking


def thread(booking_id: str) -> str:
    return f"/bookings/{booking_id}/messages"


async def messages_on(resources, booking_id: str) -> int:
    async with resources.reads() as db:
        return (await db.execute(select(func.count()).select_from(BookingMessage).where(
            BookingMessage.booking_id == booking_id))).scalar_one()


class TestThread:
    async def test_the_two_parties_write_and_read_in_order(self, pets, client, resources):
        owner = await create_user(resources, name="María")
        booking = await create_booking(resources, owner_id=owner)

        headers = await act_as(pets, client, resources, owner)
        asked = await pets.post(thread(booking.id), json={"body": "Does Rex need a walk at 7?"},
                                headers=headers)
        headers = await act_as(pets, client, resources, booking.sitter_id)
        answered = await pets.post(thread(booking.id), json={"body": "Yes, and one at 6 pm."},
                                   headers=headers)
        listed = await pets.get(thread(booking.id))

        assert asked.status_code == answered.status_code == 201, answered.text
        assert asked.json()["authorName"] == "María"
        assert asked.json()["authorId"] == owner
        assert [(m["authorId"], m["body"]) for m in listed.json()["items"]] == [
            (owner, "Does Rex need a walk at 7?"), (booking.sitter_id, "Yes, and one at 6 pm.")]
        assert listed.json()["hasMore"] is False

    @pytest.mark.parametrize("who", ["stranger", "admin"])
    async def test_anyone_else_gets_404_reading_or_writing(self, pets, client, resources, who):
        booking = await create_booking(resources)
        other = await create_user(resources, role="admin" if who == "admin" else "user")
        headers = await act_as(pets, client, resources, other)

        read = await pets.get(thread(booking.id))
        written = await pets.post(thread(booking.id), json={"body": "Hello"}, headers=headers)

        assert read.status_code == written.status_code == 404
        assert written.json()["detail"] == "No booking with this id is visible to you."
        assert await messages_on(resources, booking.id) == 0

    async def test_signed_out_gets_401(self, pets, client, resources):
        booking = await create_booking(resources)
        await act_as(pets, client, resources, None)
        assert (await pets.get(thread(booking.id))).status_code == 401


class TestBody:
    @pytest.mark.parametrize("body", ["", "   ", " \n\t\r\n ", "\x00\x07"])
    async def test_an_empty_message_is_refused_in_plain_words(self, pets, client, resources,
                                                              body):
        booking = await create_booking(resources)
        headers = await act_as(pets, client, resources, booking.owner_id)

        response = await pets.post(thread(booking.id), json={"body": body}, headers=headers)

        assert response.status_code == 422
        assert response.json()["fields"] == [{
            "field": "body", "message": "Write something before sending: this message is empty."}]
        assert await messages_on(resources, booking.id) == 0

    async def test_a_message_over_2000_characters_is_refused(self, pets, client, resources):
        booking = await create_booking(resources)
        headers = await act_as(pets, client, resources, booking.owner_id)

        too_long = await pets.post(thread(booking.id), json={"body": "a" * 2001},
                                   headers=headers)
        longest = await pets.post(thread(booking.id), json={"body": f"  {'a' * 2000}\n"},
                                  headers=headers)

        assert too_long.status_code == 422
        assert "up to 2,000 characters; this one has 2,001" in too_long.json()["detail"]
        assert longest.status_code == 201

    async def test_kept_as_typed_without_control_characters(self, pets, client, resources):
        booking = await create_booking(resources)
        headers = await act_as(pets, client, resources, booking.owner_id)
        typed = "\n  <b>Rex</b> & Tom\r\n\ttabbed\x1b[31m line\x00 \n\n"

        response = await pets.post(thread(booking.id), json={"body": typed}, headers=headers)

        assert response.json()["body"] == "<b>Rex</b> & Tom\n\ttabbed[31m line"


class TestWhenOpen:
    @pytest.mark.parametrize("status", ["declined", "cancelled"])
    async def test_a_refused_booking_takes_no_new_message(self, pets, client, resources,
                                                          status):
        booking = await create_booking(resources, status=status)
        headers = await act_as(pets, client, resources, booking.owner_id)

        response = await pets.post(thread(booking.id), json={"body": "Why?"}, headers=headers)

        assert response.status_code == 409
        assert response.json()["detail"] == (
            f"This booking was {status}, so its messages are closed: you can still read them.")
        assert (await pets.get(thread(booking.id))).status_code == 200

    @pytest.mark.parametrize(("days_ago", "code"), [(29, 201), (31, 409)])
    async def test_a_completed_stay_takes_messages_for_30_days(self, pets, client, resources,
                                                               days_ago, code):
        listing = await create_listing(resources, timezone="UTC")
        end = date.today() - timedelta(days=days_ago)
        booking_id = await insert_booking(resources, listing, start_date=end - timedelta(days=2),
                                          end_date=end, status="completed")
        headers = await act_as(pets, client, resources, listing.sitter_id)

        response = await pets.post(thread(booking_id), json={"body": "Thanks again!"},
                                   headers=headers)

        assert response.status_code == code, response.text
        if code == 409:
            assert "Messages close 30 days after the stay" in response.json()["detail"]


async def test_the_other_party_is_notified_with_a_link_to_the_thread(pets, client, resources):
    booking = await create_booking(resources)
    headers = await act_as(pets, client, resources, booking.sitter_id)
    body = "Rex is welcome! " * 20

    sent = (await pets.post(thread(booking.id), json={"body": body}, headers=headers)).json()
    await relay.drain(resources)

    notes = await resources.mongo.notifications.find(
        {"targetId": booking.owner_id, "object.type": "Message"}).to_list()
    assert [(n["type"], n["actorId"], n["object"]["id"], n["object"]["summary"]) for n in notes] \
        == [("Create", booking.sitter_id, sent["id"], body[:140])]
    assert notes[0]["object"]["url"] == (
        f"{resources.settings.pets_url}/bookings/{booking.id}#messages")
    assert await resources.mongo.notifications.count_documents(
        {"targetId": booking.sitter_id, "object.type": "Message"}) == 0


async def test_the_21st_message_in_10_minutes_is_refused(pets, client, resources):
    booking = await create_booking(resources)
    headers = await act_as(pets, client, resources, booking.owner_id)

    codes = [(await pets.post(thread(booking.id), json={"body": f"Note {n}"},
                              headers=headers)).status_code for n in range(21)]
    refused = await pets.post(thread(booking.id), json={"body": "One more"}, headers=headers)

    assert codes == [201] * 20 + [429]
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("You have sent 20 messages in the last few "
                                               "minutes. Try again in ")
    assert int(refused.headers["Retry-After"]) <= 600
    assert await messages_on(resources, booking.id) == 20
    # The other party's own limit is untouched.
    headers = await act_as(pets, client, resources, booking.sitter_id)
    assert (await pets.post(thread(booking.id), json={"body": "Slow down!"},
                            headers=headers)).status_code == 201


async def test_a_retried_post_with_its_key_adds_one_message(pets, client, resources):
    booking = await create_booking(resources)
    headers = await act_as(pets, client, resources, booking.owner_id)
    headers["Idempotency-Key"] = "msg-1"

    first = await pets.post(thread(booking.id), json={"body": "See you Friday"}, headers=headers)
    again = await pets.post(thread(booking.id), json={"body": "See you Friday"}, headers=headers)
    other = await pets.post(thread(booking.id), json={"body": "Or Saturday"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert await messages_on(resources, booking.id) == 1


class TestPage:
    """The booking's page, as a browser without JavaScript uses it."""

    async def test_the_thread_shows_escaped_with_line_breaks_in_the_listings_time(
        self, pets, resources
    ):
        owner = await create_user(resources, name="María")
        listing = await create_listing(resources, timezone="Asia/Tokyo",
                                       title="Cats among the books")
        booking = await create_booking(resources, listing=listing, owner_id=owner)
        await sign_in_as(pets, resources, owner)
        page = f"/bookings/{booking.id}"

        sent = await submit(pets, f"{page}/messages",
                            {"body": "<script>alert(1)</script>\r\nSecond line"}, page=page)
        async with resources.db.begin() as db:
            written = (await db.execute(update(BookingMessage).where(
                BookingMessage.booking_id == booking.id).values(
                created_at=datetime(2026, 12, 6, 23, 30, tzinfo=UTC)))).rowcount
        shown = await pets.get(page, headers=BROWSER)

        assert sent.status_code == 303
        assert sent.headers["location"] == f"{page}#messages"
        assert written == 1
        assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line" in shown.text
        assert "<script>alert" not in shown.text
        # 23:30 UTC is 8:30 the next morning in Tokyo.
        assert "You · Mon 7 Dec, 8:30 AM" in text_of(shown.text)

        await sign_in_as(pets, resources, listing.sitter_id)
        seen_by_sitter = text_of((await pets.get(page, headers=BROWSER)).text)
        assert "María · Mon 7 Dec, 8:30 AM <script>alert(1)</script> Second line" \
            in seen_by_sitter

    async def test_a_message_without_its_author_reads_as_a_former_members(self, pets,
                                                                          resources):
        """What `ON DELETE SET NULL` leaves of a message whose author's account is gone."""
        booking = await create_booking(resources)
        await sign_in_as(pets, resources, booking.owner_id)
        page = f"/bookings/{booking.id}"
        await submit(pets, f"{page}/messages", {"body": "Thanks for everything"}, page=page)
        async with resources.db.begin() as db:
            await db.execute(update(BookingMessage).where(
                BookingMessage.booking_id == booking.id).values(author_id=None))

        await sign_in_as(pets, resources, booking.sitter_id)
        shown = text_of((await pets.get(page, headers=BROWSER)).text)
        listed = (await pets.get(thread(booking.id))).json()["items"]

        assert "A former member ·" in shown and "Thanks for everything" in shown
        assert [(m["authorId"], m["authorName"]) for m in listed] == [(None, None)]

    async def test_an_empty_message_is_named_next_to_the_field(self, pets, resources):
        booking = await create_booking(resources)
        await sign_in_as(pets, resources, booking.owner_id)
        page = f"/bookings/{booking.id}"

        sent = await submit(pets, f"{page}/messages", {"body": "  \n "}, page=page)

        assert sent.status_code == 422
        error = re.search(r'<p class="field-error" id="body-error">([^<]+)</p>', sent.text)
        assert error.group(1) == "Write something before sending: this message is empty."
        assert await messages_on(resources, booking.id) == 0

    async def test_my_bookings_links_to_each_thread(self, pets, resources):
        booking = await create_booking(resources)
        await sign_in_as(pets, resources, booking.sitter_id)

        listed = await pets.get("/bookings", headers=BROWSER)

        assert f'href="/bookings/{booking.id}#messages"' in listed.text

    async def test_someone_elses_booking_page_is_not_found(self, pets, resources):
        booking = await create_booking(resources)
        await sign_in_as(pets, resources, await create_user(resources))

        page = await pets.get(f"/bookings/{booking.id}", headers=BROWSER)

        assert page.status_code == 404
        assert "A garden and two walks a day" not in page.text
        assert booking.note not in page.text
