"""Review bodies and answers at the HTTP edge."""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from panamia.fields import Strict, Text
from panamia.schemas import Schema

Rating = Annotated[int, Field(ge=1, le=5, strict=True)]
ReviewText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000),
                       *Text.__metadata__]


class ReviewCreate(Strict):
    rating: Rating
    text: ReviewText | None = None


class ReviewView(Schema):
    id: str
    listing_id: str
    rating: int
    text: str | None
    author_screenname: str | None = Field(description="Null if the author never chose one")
    created_at: datetime


class ReviewPage(Schema):
    listing_id: str
    average_rating: float | None = Field(description="Over all reviews, 2 decimals; null if none")
    count: int
    items: list[ReviewView]
    page: int
    page_size: int
    has_more: bool


class SitterReviews(Schema):
    sitter_id: str
    average_rating: float | None = Field(description="Over the reviews of all their listings, "
                                                      "2 decimals; null if none")
    count: int
    latest: list[ReviewView]
