"""Reviewing a completed stay, once, as its owner; reading a listing's reviews."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from panamia.outbox import relay
from panamia.pets.reviews.models import Review
from tests.identity.factories import create_user
from tests.pets.factories import act_as, create_listing, insert_booking

REVIEW = {"rating": 5, "text": "Came back happy and tired."}


@pytest.fixture
async def stay(resources, listing) -> dict[str, str]:
    """A completed booking: its listing, sitter, owner, and a stranger and an admin."""
    owner = await create_user(resources, screenname="owner-ana")
    booking = await insert_booking(resources, listing, owner_id=owner, status="completed")
    return {
        "booking": booking, "listing": listing.id, "owner": owner,
        "sitter": listing.sitter_id, "stranger": await create_user(resources),
        "admin": await create_user(resources, email="admin@example.org"), "anonymous": None,
    }


async def post_review(pets, client, resources, stay, actor="owner", body=REVIEW):
    headers = await act_as(pets, client, resources, stay[actor])
    return await pets.post(f"/bookings/{stay['booking']}/review", json=body, headers=headers)


class TestReview:
    async def test_the_owner_reviews_a_completed_stay_and_the_sitter_is_told(
        self, pets, client, resources, stay
    ):
        response = await post_review(pets, client, resources, stay)

        assert response.status_code == 201, response.text
        review = response.json()
        assert review["rating"] == 5 and review["listingId"] == stay["listing"]
        await relay.drain(resources)
        notice = await resources.mongo["notifications"].find_one({"targetId": stay["sitter"]})
        assert notice["type"] == "Create" and notice["actorId"] == stay["owner"]
        assert notice["object"]["type"] == "Review" and notice["object"]["id"] == review["id"]

    async def test_a_second_review_of_the_stay_is_409(self, pets, client, resources, stay):
        assert (await post_review(pets, client, resources, stay)).status_code == 201
        again = await post_review(pets, client, resources, stay, body={"rating": 1})
        assert again.status_code == 409
        assert again.json()["error"] == "already reviewed"
        await relay.drain(resources)
        assert await resources.mongo["notifications"].count_documents({}) == 1

    @pytest.mark.parametrize(("actor", "expected"), [
        ("anonymous", 401), ("stranger", 404), ("sitter", 403), ("admin", 403),
    ])
    async def test_only_the_owner(self, pets, client, resources, stay, actor, expected):
        response = await post_review(pets, client, resources, stay, actor)
        assert response.status_code == expected

    @pytest.mark.parametrize("status", ["pending", "confirmed", "cancelled", "declined",
                                        "expired"])
    async def test_only_a_completed_stay(self, pets, client, resources, stay, status):
        listing = await create_listing(resources)
        stay["booking"] = await insert_booking(resources, listing, owner_id=stay["owner"],
                                               status=status)
        response = await post_review(pets, client, resources, stay)
        assert response.status_code == 409
        assert status in response.json()["detail"]

    async def test_an_unknown_booking_is_404(self, pets, client, resources, stay):
        stay["booking"] = "nosuchbooking"
        assert (await post_review(pets, client, resources, stay)).status_code == 404

    @pytest.mark.parametrize("body", [
        {"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 4.5}, {"rating": True},
        {"text": "no rating"}, {"rating": 3, "text": "x" * 5001}, {"rating": 3, "extra": 1},
    ])
    async def test_a_bad_body_is_422(self, pets, client, resources, stay, body):
        response = await post_review(pets, client, resources, stay, body=body)
        assert response.status_code == 422, response.text


class TestList:
    async def add(self, resources, listing, stay, rating: int, days_ago: int) -> str:
        """A review of another completed stay at the listing, written `days_ago`."""
        booking = await insert_booking(resources, listing, owner_id=stay["owner"],
                                       status="completed")
        async with resources.db.begin() as db:
            return (await db.execute(insert(Review).values(
                booking_id=booking, author_id=stay["owner"], listing_id=stay["listing"],
                rating=rating, text=f"{rating} stars",
                created_at=datetime.now(UTC) - timedelta(days=days_ago),
            ).returning(Review.id))).scalar_one()

    async def test_newest_first_with_average_and_count(self, pets, resources, listing, stay):
        old = await self.add(resources, listing, stay, 5, days_ago=30)
        new = await self.add(resources, listing, stay, 2, days_ago=1)
        middle = await self.add(resources, listing, stay, 4, days_ago=10)

        response = await pets.get(f"/listings/{stay['listing']}/reviews",
                                  params={"pageSize": 2})

        body = response.json()
        assert body["count"] == 3 and body["averageRating"] == 3.67
        assert [r["id"] for r in body["items"]] == [new, middle] and body["hasMore"] is True
        assert body["items"][0]["authorScreenname"] == "owner-ana"
        assert stay["owner"] not in response.text and stay["booking"] not in response.text
        rest = (await pets.get(f"/listings/{stay['listing']}/reviews",
                               params={"pageSize": 2, "page": 2})).json()
        assert [r["id"] for r in rest["items"]] == [old] and rest["count"] == 3

    async def test_no_reviews_yet(self, pets, stay):
        body = (await pets.get(f"/listings/{stay['listing']}/reviews")).json()
        assert body["count"] == 0 and body["averageRating"] is None and body["items"] == []

    async def test_an_unknown_listing_is_404(self, pets):
        assert (await pets.get("/listings/nosuchlisting/reviews")).status_code == 404
