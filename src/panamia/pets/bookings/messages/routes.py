"""A booking's thread in the JSON API: only the booking's owner and its sitter read it and
write to it; to anyone else it does not exist (404)."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from panamia.errors import Conflict, DomainError, Invalid, NotFound, TooManyRequests, responses
from panamia.identity.dependencies import CurrentUser
from panamia.pets.bookings.messages import service
from panamia.pets.bookings.messages.schemas import MessageCreate, MessagePage, MessageView
from panamia.pets.bookings.routes import CHECKED, BookingId
from panamia.resources import ResourcesDep
from panamia.sidecar.idempotency import KeyHeader

router = APIRouter(prefix="/bookings", tags=["bookings"])
FOUND = responses((NotFound, "No such booking, or you are not one of its two parties"))


@router.get("/{booking_id}/messages", response_model=MessagePage,
            summary="A booking's messages", responses=CHECKED | FOUND)
async def list_messages(
    booking_id: BookingId,
    user: CurrentUser,
    resources: ResourcesDep,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=service.MAX_PAGE_SIZE)] = 50,
) -> MessagePage:
    """Oldest first, each with its author's name (null for a member who has since deleted
    their account)."""
    return await service.list_messages(resources, user, booking_id, page=page,
                                       page_size=page_size)


@router.post(
    "/{booking_id}/messages", response_model=MessageView, status_code=201,
    summary="Write to the other party",
    responses=CHECKED | FOUND | responses(
        (DomainError, "The body cannot be read as JSON"),
        (Conflict, "The booking was declined, cancelled or expired, or its stay ended more "
                   "than 30 days ago; or the same Idempotency-Key is still being processed"),
        (Invalid, "An empty message, one over 2,000 characters, or a reused Idempotency-Key "
                  "with another body"),
        (TooManyRequests, "More than 20 messages in 10 minutes")),
)
async def post_message(
    booking_id: BookingId,
    body: MessageCreate,
    user: CurrentUser,
    resources: ResourcesDep,
    idempotency_key: KeyHeader = None,
) -> JSONResponse:
    """Plain text, kept as typed (line breaks included, control characters dropped). The
    other party gets a notification linking to the thread."""
    answer = await service.post_message(resources, user, booking_id, body, idempotency_key)
    return answer.response()
