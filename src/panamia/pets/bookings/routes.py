"""Booking endpoints of the pets sidecar.

Who may do what: the owner requests and may cancel; the sitter confirms, declines, cancels
and completes; both parties and admins may read a booking; anyone else gets 404.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from panamia.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.pets.bookings import service
from panamia.pets.bookings.schemas import (
    BookingDetail,
    BookingPage,
    BookingRequest,
    BookingView,
    ID_PATTERN,
    Role,
)
from panamia.pets.bookings.states import BOOKINGS, Status
from panamia.resources import ResourcesDep
from panamia.sidecar.idempotency import KeyHeader

router = APIRouter(prefix="/bookings", tags=["bookings"])
BookingId = Annotated[str, Path(pattern=ID_PATTERN)]

CHECKED = SIGNED_IN | responses((Forbidden, "CSRF token missing or wrong"), Invalid)
FOUND = responses((NotFound, "No such booking, or not one of yours"))


def step(name: str) -> dict[int, dict]:
    """A transition route's `responses=`, from its declaration."""
    return CHECKED | responses(*BOOKINGS.responses(name))


@router.post(
    "", response_model=BookingView, status_code=201, summary="Request a booking",
    responses=CHECKED | responses(
        (DomainError, "The body cannot be read as JSON"),
        (Conflict, "Nights taken by another booking or a blackout (`error` is \"already "
                   "asked\" when your own request or booking holds them); or the same "
                   "Idempotency-Key is still being processed"),
        (Invalid, "Bad dates, own or unavailable listing, too many pets, a species the sitter "
                  "does not take, or a reused Idempotency-Key with another body")),
)
async def request_booking(
    body: BookingRequest,
    user: CurrentUser,
    resources: ResourcesDep,
    idempotency_key: KeyHeader = None,
) -> JSONResponse:
    """Ask the sitter for the nights `[startDate, endDate)`; the server prices them
    (nights × price per day). The request is pending until the sitter answers, and expires
    after 48 hours; meanwhile it holds the nights."""
    answer = await service.request_booking(resources, user, body, idempotency_key)
    return answer.response()


@router.get("", response_model=BookingPage, summary="Your bookings",
            responses=CHECKED)
async def list_bookings(
    user: CurrentUser,
    resources: ResourcesDep,
    role: Annotated[Role | None, Query(description="As owner or as sitter; both if left out")]
    = None,
    status: Status | None = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=service.MAX_PAGE_SIZE)] = 20,
) -> BookingPage:
    """Latest start first, each with the other party's screenname."""
    return await service.list_bookings(
        resources, user, role=role, status=status, page=page, page_size=page_size
    )


@router.get("/{booking_id}", response_model=BookingDetail, summary="One booking",
            responses=CHECKED | FOUND)
async def get_booking(booking_id: BookingId, user: CurrentUser, resources: ResourcesDep):
    """For its owner, its sitter and admins."""
    return await service.get_booking(resources, user, booking_id)


@router.post("/{booking_id}/confirm", response_model=BookingView, summary="Confirm a request",
             responses=step("confirm"))
async def confirm_booking(booking_id: BookingId, user: CurrentUser, resources: ResourcesDep):
    """The sitter accepts a pending request (not one older than 48 hours: it has expired)."""
    return await service.transition(resources, user, booking_id, "confirm")


@router.post("/{booking_id}/decline", response_model=BookingView, summary="Decline a request",
             responses=step("decline"))
async def decline_booking(booking_id: BookingId, user: CurrentUser, resources: ResourcesDep):
    """The sitter turns down a pending request; its nights are free at once."""
    return await service.transition(resources, user, booking_id, "decline")


@router.post("/{booking_id}/cancel", response_model=BookingView, summary="Cancel a booking",
             responses=step("cancel"))
async def cancel_booking(booking_id: BookingId, user: CurrentUser, resources: ResourcesDep):
    """The owner or the sitter, while it is pending or confirmed and before its start date
    (in the listing's time zone); its nights are free at once."""
    return await service.transition(resources, user, booking_id, "cancel")


@router.post("/{booking_id}/complete", response_model=BookingView,
             summary="Mark a stay completed", responses=step("complete"))
async def complete_booking(booking_id: BookingId, user: CurrentUser, resources: ResourcesDep):
    """The sitter, for a confirmed booking, from its check-out day on (in the listing's time
    zone)."""
    return await service.transition(resources, user, booking_id, "complete")
