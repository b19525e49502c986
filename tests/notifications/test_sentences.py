"""Each kind of notification reads as a sentence whose link leads somewhere real: opening it
marks it read and lands on the thing, on this platform only."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from panamia.notifications.schemas import ActivityObject, Create, Follow, Invite, Like, Update
from panamia.pets.bookings import service as bookings
from panamia.pets.bookings.schemas import BookingRequest
from tests.fixtures.http import BROWSER, text_of
from tests.identity.factories import sign_in_as
from tests.notifications.factories import delivered
from tests.pets.factories import act_as, create_listing, insert_booking
from tests.profiles.factories import create_member, principal

SOON = date.today() + timedelta(days=30)


async def a_booking_request(resources, owner: str, sitter: str) -> str:
    listing = await create_listing(resources, sitter_id=sitter, title="Cats among the books")
    body = BookingRequest(listingId=listing.id, startDate=SOON,
                          endDate=SOON + timedelta(days=2),
                          pets=[{"name": "Miso", "species": "cat"}])
    answer = await bookings.request_booking(resources, principal(owner), body)
    await delivered(resources)
    return answer.body["id"]


async def notification_page(client) -> str:
    return (await client.get("/notifications", headers=BROWSER)).text


async def opened(client, notification_id: str) -> str:
    """Where opening the notification leads."""
    answer = await client.get(f"/notifications/{notification_id}/open")
    assert answer.status_code == 303
    return answer.headers["location"]


async def test_a_booking_request_reads_as_a_sentence_and_opens_the_booking(
        client, pets, resources):
    owner = await create_member(resources, name="Ana", screenname="ana")
    sitter = await create_member(resources, name="Tomás", screenname="tomas")
    booking_id = await a_booking_request(resources, owner, sitter)
    await sign_in_as(client, resources, sitter)

    [item] = (await client.get("/api/notifications")).json()["items"]
    shown = text_of(await notification_page(client))
    days = f"{SOON.day}–{(SOON + timedelta(days=2)).day}"
    assert f"Ana asked to book Cats among the books for {days}" in shown
    assert "Answer by" in shown

    target = await opened(client, item["id"])
    assert target == f"http://pets.testserver/bookings/{booking_id}"
    await act_as(pets, client, resources, sitter)
    landed = await pets.get(urlsplit(target).path, headers=BROWSER)
    assert landed.status_code == 200 and "Cats among the books" in landed.text
    [item] = (await client.get("/api/notifications")).json()["items"]
    assert item["read"] is True


async def test_a_confirmation_and_a_completed_stay_lead_to_the_booking_and_its_review_form(
        client, pets, resources):
    owner = await create_member(resources, name="Ana")
    sitter = await create_member(resources, name="Tomás")
    booking_id = await a_booking_request(resources, owner, sitter)
    await bookings.transition(resources, principal(sitter), booking_id, "confirm")
    listing = await create_listing(resources, sitter_id=sitter, title="Cats among the books")
    past = date.today() - timedelta(days=10)
    stayed = await insert_booking(resources, listing, owner_id=owner, start_date=past,
                                  end_date=past + timedelta(days=2))
    await bookings.transition(resources, principal(sitter), stayed, "complete")
    await delivered(resources)
    await sign_in_as(client, resources, owner)

    shown = text_of(await notification_page(client))
    assert "Tomás confirmed your booking of Cats among the books" in shown
    days = f"{past.day}–{(past + timedelta(days=2)).day}"
    assert f"Your stay at Cats among the books for {days}" in shown
    assert "is complete: leave a review." in shown
    items = {item["type"]: item["id"] for item in
             (await client.get("/api/notifications")).json()["items"]}
    await act_as(pets, client, resources, owner)
    for kind, path in (("Accept", f"/bookings/{booking_id}"),
                       ("Update", f"/bookings/{stayed}/review")):
        target = await opened(client, items[kind])
        assert target == f"http://pets.testserver{path}"
        assert (await pets.get(path, headers=BROWSER)).status_code == 200


async def test_content_notifications_read_as_sentences_whose_links_answer(client, resources):
    me = await create_member(resources, name="Me", screenname="me", active=True)
    lucia = await create_member(resources, name="Lucía", screenname="lucia", active=True)
    jean = await create_member(resources, name="Jean", screenname="jean", active=True)
    article = ActivityObject(type="Article", id="a1", url="/articles", name="Our street")
    message = ActivityObject(type="Message", id="m1", url="http://testserver/notifications",
                             name="Cats among the books", summary="New message")
    await delivered(
        resources,
        Invite(actor_id=lucia, target_id=me, object=article),
        Like(actor_id=jean, target_id=me, object=article),
        Create(actor_id=lucia, target_id=me, object=message),
        Follow(actor_id=jean, target_id=me,
               object=ActivityObject(type="Person", id=me, url="/people/jean")),
    )
    await sign_in_as(client, resources, me)

    shown = text_of(await notification_page(client))
    for sentence in ("Lucía invited you to co-write Our street.", "Jean liked Our street.",
                     "Lucía sent you a message about Cats among the books.",
                     "Jean follows you."):
        assert sentence in shown
    for item in (await client.get("/api/notifications")).json()["items"]:
        target = await opened(client, item["id"])
        assert (await client.get(urlsplit(target).path, headers=BROWSER)).status_code == 200
    assert (await client.get("/api/notifications/unread-count")).json() == {"count": 0}


async def test_an_unlisted_person_s_name_is_no_link(client, resources):
    me = await create_member(resources, name="Me")
    tomas = await create_member(resources, name="Tomás", screenname="tomas", active=False)
    await delivered(resources, Follow(actor_id=tomas, target_id=me, object=ActivityObject(
        type="Person", id=me, url="/people/tomas")))
    await sign_in_as(client, resources, me)

    page = await notification_page(client)
    assert "Tomás follows you." in text_of(page)
    assert 'href="/people/tomas"' not in page
    assert (await client.get("/people/tomas", headers=BROWSER)).status_code == 404
    assert "/open" not in page


@pytest.mark.parametrize("url", ["https://evil.example/phish", "//evil.example/x",
                                 "http://testserver.evil.example/"])
async def test_opening_never_leaves_the_platform(client, resources, url):
    me = await create_member(resources, name="Me")
    ben = await create_member(resources, name="Ben")
    bid = ActivityObject(type="Bid", id="b1", url="https://evil.example/phish")
    note = bid if url.startswith("https") else ActivityObject(type="Note", id="n", url=url)
    [notification_id] = await delivered(resources, Update(actor_id=ben, target_id=me,
                                                          object=note))
    await sign_in_as(client, resources, me)
    assert await opened(client, notification_id) == "/notifications"


async def test_the_mark_as_read_button_names_its_notification(client, resources):
    me = await create_member(resources, name="Me")
    ben = await create_member(resources, name="Ben")
    await delivered(resources, Like(actor_id=ben, target_id=me, object=ActivityObject(
        type="Article", id="a1", name="Our street")))
    await sign_in_as(client, resources, me)
    page = await notification_page(client)
    assert ('Mark as read<span class="visually-hidden">: Ben liked Our street.</span>'
            in page)


async def test_someone_else_s_notification_does_not_open(client, resources):
    me, other = await create_member(resources), await create_member(resources)
    ben = await create_member(resources, name="Ben")
    [theirs] = await delivered(resources, Like(actor_id=ben, target_id=other, object=
                                               ActivityObject(type="Article", id="a1")))
    await sign_in_as(client, resources, me)
    assert await opened(client, theirs) == "/notifications"
    await sign_in_as(client, resources, other)
    assert (await client.get("/api/notifications")).json()["items"][0]["read"] is False


async def test_a_message_without_a_name_reads_its_first_words(client, resources):
    me = await create_member(resources, name="Me")
    maria = await create_member(resources, name="María")
    await delivered(resources, Create(actor_id=maria, target_id=me, object=ActivityObject(
        type="Message", id="m1", url="http://pets.testserver/bookings",
        summary="Can Miso bring her toy?")))
    await sign_in_as(client, resources, me)
    assert "María sent you a message: Can Miso bring her toy?" in text_of(
        await notification_page(client))


async def test_an_activity_this_version_does_not_know_still_reads_sensibly(client, resources):
    me = await create_member(resources, name="Me")
    ben = await create_member(resources, name="Ben")
    await resources.mongo["notifications"].insert_one({
        "_id": "later-1", "type": "Mention", "actorId": ben, "targetId": me,
        "object": {"type": "Article", "id": "a1", "url": "/articles", "summary": "Our street"},
        "read": False, "readAt": None, "createdAt": datetime.now(UTC)})
    await sign_in_as(client, resources, me)
    assert "Ben sent you a mention about Our street." in text_of(await notification_page(client))
    assert (await client.get("/api/notifications")).json()["items"][0]["type"] == "Mention"
