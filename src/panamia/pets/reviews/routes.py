"""Review endpoints of the pets sidecar."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from panamia.errors import Conflict, Forbidden, Invalid, NotFound, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.pets.listings.schemas import ID_PATTERN
from panamia.pets.reviews import service
from panamia.pets.reviews.schemas import ReviewCreate, ReviewPage, ReviewView, SitterReviews
from panamia.resources import ResourcesDep

router = APIRouter(tags=["reviews"])
BookingId = Annotated[str, Path(pattern=ID_PATTERN)]
ListingId = Annotated[str, Path(pattern=ID_PATTERN)]
UserId = Annotated[str, Path(pattern=ID_PATTERN)]
LATEST_MAX = 20


@router.post("/bookings/{booking_id}/review", response_model=ReviewView, status_code=201,
             summary="Review a completed stay", responses=SIGNED_IN | responses(
                 (Forbidden, "Not the booking's owner (or the CSRF token is missing)"),
                 (NotFound, "No such booking of yours"),
                 (Conflict, "Not completed, or reviewed already"), Invalid))
async def review_booking(
    booking_id: BookingId, body: ReviewCreate, user: CurrentUser, resources: ResourcesDep
) -> ReviewView:
    """The booking's owner, once, after the stay is completed. The sitter is notified."""
    return await service.review_booking(resources, user, booking_id, body)


@router.get("/listings/{listing_id}/reviews", response_model=ReviewPage,
            summary="A listing's reviews", responses=responses((NotFound, "No such listing")))
async def list_reviews(
    listing_id: ListingId, resources: ResourcesDep,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=service.MAX_PAGE_SIZE)] = 20,
) -> ReviewPage:
    """Newest first, with the average rating and the count over all of them."""
    return await service.list_reviews(resources, listing_id, page=page, page_size=page_size)


@router.get("/sitters/{sitter_id}/reviews", response_model=SitterReviews,
            summary="A sitter's rating")
async def sitter_reviews(
    sitter_id: UserId, resources: ResourcesDep,
    latest: Annotated[int, Query(ge=0, le=LATEST_MAX, description="How many of the latest "
                                                                    "to include")] = 3,
) -> SitterReviews:
    """The average rating and count over the reviews of all the sitter's listings, with the
    latest few. A member who sits for no one has none (count 0)."""
    return await service.of_sitter(resources, sitter_id, latest=latest)
