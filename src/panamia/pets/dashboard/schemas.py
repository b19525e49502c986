"""The sitter's dashboard at the HTTP edge."""

from datetime import datetime

from pydantic import Field

from panamia.pets.bookings.schemas import BookingListItem
from panamia.pets.listings.schemas import ListingView
from panamia.schemas import Schema


class WaitingRequest(BookingListItem):
    answer_by: datetime = Field(description="When the request expires if still unanswered: "
                                            "48 hours after it was sent")


class SitterDashboard(Schema):
    listings: list[ListingView] = Field(description="Yours, taking bookings or not")
    waiting: list[WaitingRequest] = Field(description="Requests waiting for your answer, "
                                                      "soonest stay first")
    upcoming: list[BookingListItem] = Field(description="Confirmed stays not over yet, "
                                                        "soonest first")
