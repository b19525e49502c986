"""A booking's own page: the booking as My bookings shows it, with its thread of messages
under it and a form to write to the other party."""

from fastapi import Request

from panamia import pages
from panamia.db.postgres import new_id
from panamia.errors import Conflict, Invalid, TooManyRequests
from panamia.identity.dependencies import CurrentUser, Principal
from panamia.pets.bookings import pages as booking_pages
from panamia.pets.bookings import service as bookings_service
from panamia.pets.bookings.messages import service
from panamia.pets.bookings.messages.schemas import MessageCreate
from panamia.pets.bookings.schemas import BookingDetail, BookingListItem
from panamia.sidecar.pages import HELPERS, page_router

router = page_router()
LATEST = 100  # messages shown; the JSON API pages through all of them


def as_row_item(booking: BookingDetail, role: str) -> BookingListItem:
    """The booking as My bookings lists it for `role`, naming the other party."""
    other = "sitter" if role == "owner" else "owner"
    return BookingListItem.model_validate(booking.model_dump() | {
        "other_party_screenname": getattr(booking, f"{other}_screenname"),
        "other_party_name": getattr(booking, f"{other}_name"),
    })


async def booking_page(request: Request, user: Principal, booking_id: str, *,
                       status: int = 200, values: dict | None = None,
                       errors: dict | None = None, error: str | None = None):
    res = pages.resources_of(request)
    thread = await service.thread(res, user, booking_id, latest=LATEST)  # 404 unless a party
    booking = await bookings_service.get_booking(res, user, booking_id)
    role = "owner" if booking.owner_id == user.id else "sitter"
    [row] = await booking_pages.rows_of(request, [as_row_item(booking, role)], role)
    other_id = booking.sitter_id if role == "owner" else booking.owner_id
    return await pages.render(
        request, "pets/messages.html", status=status, nav="pets", **HELPERS,
        title=row.title, row=row, role=role, thread=thread, latest=LATEST, key=new_id(),
        at=lambda when: booking_pages.moment(when, thread.booking.timezone),
        values=values or {}, errors=errors or {}, error=error,
        labels={"body": "Your message"}, buttons=booking_pages.BUTTONS,
        asked_first=booking_pages.ASKED_FIRST, what_it_does=booking_pages.WHAT_IT_DOES,
        public=await booking_pages.public_of(request, [other_id]),
        back=f"/bookings/{booking_id}",
    )


@router.get("/bookings/{booking_id}")
async def show_booking(request: Request, user: CurrentUser,
                       booking_id: str = booking_pages.BookingId):
    return await booking_page(request, user, booking_id)


@router.post("/bookings/{booking_id}/messages")
async def send_message(request: Request, user: CurrentUser,
                       booking_id: str = booking_pages.BookingId):
    form = await pages.read_form(request)
    try:
        await service.post_message(pages.resources_of(request), user, booking_id,
                                   MessageCreate(body=form.get("body", "")),
                                   form.get("key") or None)
    except Invalid as exc:
        return await booking_page(request, user, booking_id, status=422, values=form,
                                  errors=pages.invalid_errors(exc))
    except (Conflict, TooManyRequests) as exc:
        return await booking_page(request, user, booking_id, status=exc.status, values=form,
                                  error=f"Not sent: {exc.detail}")
    return pages.redirect(request, f"/bookings/{booking_id}#messages", notice="Message sent.")
