"""The rentals JSON API.

Who may do what: any signed-in member lists items and asks to rent others' items; the owner
confirms, declines, records the pick-up and the return (or a damage claim); the renter
accepts or disputes a claim; either party cancels before the start; an admin settles a
disputed claim. A rental is seen by its two parties and admins; to anyone else it is 404.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from panamia.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.rentals import items, service
from panamia.rentals.schemas import (
    ID_PATTERN,
    Availability,
    Category,
    ClaimBody,
    ItemCreate,
    ItemPage,
    ItemPatch,
    ItemView,
    RentalListItem,
    RentalPage,
    RentalRequest,
    RentalView,
    Role,
    SettleBody,
)
from panamia.rentals.states import RENTALS, Status
from panamia.resources import ResourcesDep
from panamia.sidecar.idempotency import KeyHeader

items_router = APIRouter(prefix="/items", tags=["items"])
router = APIRouter(prefix="/rentals", tags=["rentals"])
ItemId = Annotated[str, Path(pattern=ID_PATTERN)]
RentalId = Annotated[str, Path(pattern=ID_PATTERN)]
CHECKED = SIGNED_IN | responses((Forbidden, "CSRF token missing or wrong"), Invalid)
NO_ITEM = responses((NotFound, "No such item"))


@items_router.post("", response_model=ItemView, status_code=201, summary="List an item",
                   responses=CHECKED)
async def create_item(body: ItemCreate, user: CurrentUser, resources: ResourcesDep):
    """Offer a thing for rent, priced per hour or per day in your time zone, with the
    shortest rental, a turnaround kept free after each rental, and a deposit."""
    return await items.create_item(resources, user, body)


@items_router.get("", response_model=ItemPage, summary="Browse items")
async def list_items(resources: ResourcesDep, category: Category | None = None,
                     page: Annotated[int, Query(ge=1, le=1000)] = 1):
    """Items taking rentals, newest first."""
    return await items.list_items(resources, category=category, page=page)


@items_router.get("/{item_id}", response_model=ItemView, summary="One item", responses=NO_ITEM)
async def get_item(item_id: ItemId, resources: ResourcesDep):
    return await items.get_item(resources, item_id)


@items_router.patch("/{item_id}", response_model=ItemView, summary="Open or close an item",
                    responses=CHECKED | NO_ITEM | responses(
                        (Forbidden, "Not the item's owner; or CSRF token missing or wrong")))
async def change_item(item_id: ItemId, body: ItemPatch, user: CurrentUser,
                      resources: ResourcesDep):
    """The owner (or an admin) stops or resumes taking new requests; rentals already asked
    for are kept."""
    return await items.change_item(resources, user, item_id, body)


@items_router.get("/{item_id}/availability", response_model=Availability,
                  summary="When an item is taken", responses=NO_ITEM)
async def availability(
    item_id: ItemId, resources: ResourcesDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
):
    """Rented times and the turnarounds after them in `[from, to)` (local times in the item's
    zone, or with an offset; default: the next six weeks; at most about three months),
    answered in UTC with the item's time zone to show them in."""
    return await items.availability(resources, item_id, start, end)


@router.post(
    "", response_model=RentalView, status_code=201, summary="Ask to rent an item",
    responses=CHECKED | responses(
        (DomainError, "The body cannot be read as JSON"),
        (Conflict, "The time, or the turnaround after another rental, is taken; or the same "
                   "Idempotency-Key is still being processed"),
        (Invalid, "Bad times (in the past, ends before it starts, a local time the clocks "
                  "skip, shorter than the item's minimum), own or unavailable item, or a "
                  "reused Idempotency-Key with another body")),
)
async def request_rental(body: RentalRequest, user: CurrentUser, resources: ResourcesDep,
                         idempotency_key: KeyHeader = None) -> JSONResponse:
    """Ask the owner for `[startsAt, endsAt)`, given as local date-times in the item's time
    zone (or with an offset). The server prices it: per started hour of real time, or per
    started local day. The request holds the time until the owner answers, at most 48 hours
    and never past its start."""
    answer = await service.request_rental(resources, user, body, idempotency_key)
    return answer.response()


@router.get("", response_model=RentalPage, summary="Your rentals", responses=CHECKED)
async def list_rentals(
    user: CurrentUser, resources: ResourcesDep,
    role: Annotated[Role | None, Query(description="As owner or as renter; both if left out")]
    = None,
    status: Status | None = None, page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=service.MAX_PAGE_SIZE)] = 50,
):
    """Latest start first."""
    return await service.list_rentals(resources, user, role=role, status=status, page=page,
                                      page_size=page_size)


@router.get("/{rental_id}", response_model=RentalListItem, summary="One rental",
            responses=CHECKED | responses((NotFound, "No such rental, or not one of yours")))
async def get_rental(rental_id: RentalId, user: CurrentUser, resources: ResourcesDep):
    """For its owner, its renter and admins."""
    return await service.get_rental(resources, user, rental_id)


def step(name: str, *extra) -> dict[int, dict]:
    """A transition route's `responses=`, from its declaration."""
    return CHECKED | responses(*RENTALS.responses(name), *extra)


STEPS = {
    "confirm": ("Confirm a request", "The owner accepts; the renter's fee and deposit are held "
                "at once (409 when the renter's balance cannot cover them)."),
    "decline": ("Decline a request", "The owner turns it down; the time is free at once."),
    "cancel": ("Cancel a rental", "Either party, before the start; held money goes back to "
               "the renter, and the time is free at once."),
    "pick_up": ("Record the pick-up", "The owner has handed the item over."),
    "return": ("Confirm the return", "The owner has the item back in good order: the deposit "
               "goes back to the renter (less any late hours), the fee to the owner less the "
               "platform fee."),
    "accept_claim": ("Accept a damage claim", "The renter agrees: the owner keeps the amount "
                     "claimed, the rest of the deposit goes back to the renter."),
    "dispute": ("Dispute a damage claim", "The renter disagrees; an admin settles it."),
}


def add_step(name: str, summary: str, description: str) -> None:
    async def take(rental_id: RentalId, user: CurrentUser, resources: ResourcesDep):
        return await service.transition(resources, user, rental_id, name)

    router.add_api_route(f"/{{rental_id}}/{name.replace('_', '-')}", take, methods=["POST"],
                         response_model=RentalView, summary=summary, description=description,
                         responses=step(name), name=name)


for _name, (_summary, _description) in STEPS.items():
    add_step(_name, _summary, _description)


@router.post("/{rental_id}/claim", response_model=RentalView, summary="Return with a claim",
             responses=step("claim"))
async def claim(rental_id: RentalId, body: ClaimBody, user: CurrentUser,
                resources: ResourcesDep):
    """The owner has the item back damaged and keeps `amount` of the deposit (at most what
    is held); the fee is paid out as at a return. The renter may accept or dispute it."""
    return await service.transition(resources, user, rental_id, "claim", body)


@router.post("/{rental_id}/settle", response_model=RentalView, summary="Settle a dispute",
             responses=step("settle", (Forbidden, "Not an admin; or CSRF token missing")))
async def settle(rental_id: RentalId, body: SettleBody, user: CurrentUser,
                 resources: ResourcesDep):
    """An admin decides a disputed claim: the owner keeps `ownerGets` (at most the amount
    claimed), the renter gets the rest of the deposit back."""
    return await service.transition(resources, user, rental_id, "settle", body)
