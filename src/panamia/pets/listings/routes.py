"""Listing endpoints of the pets sidecar: offers, search, blackouts and public availability."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from panamia.errors import Conflict, Forbidden, Invalid, NotFound, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.pets.listings import service
from panamia.pets.listings.schemas import (
    ID_PATTERN,
    MAX_WINDOW_DAYS,
    Availability,
    BlackoutCreate,
    BlackoutView,
    City,
    ListingCreate,
    ListingPage,
    ListingPatch,
    ListingView,
    Service,
    Species,
    search_problem,
    window_problem,
)
from panamia.resources import ResourcesDep

router = APIRouter(prefix="/listings", tags=["listings"])
ListingId = Annotated[str, Path(pattern=ID_PATTERN)]
BlackoutId = Annotated[str, Path(pattern=ID_PATTERN)]

ALLOWED = responses((Forbidden, "Signed in, but not allowed (or the CSRF token is missing)"))
FOUND = responses((NotFound, "No such listing"))
INVALID = responses(Invalid)
FROM = Query(alias="from", description="First night, YYYY-MM-DD; a search refuses a day gone by")
TO = Query(alias="to", description="Check-out day (exclusive), after `from`, at most "
                                   f"{MAX_WINDOW_DAYS} days later")


async def search_window(
    start: Annotated[date | None, FROM] = None, end: Annotated[date | None, TO] = None
) -> tuple[date, date] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise Invalid("Give both the first night and the check-out day, or neither.",
                      fields=["from" if start is None else "to"])
    if problem := search_problem(start, end):
        field, message = problem
        raise Invalid(message, fields=[field])
    return start, end


async def required_window(
    start: Annotated[date, FROM], end: Annotated[date, TO]
) -> tuple[date, date]:
    if problem := window_problem(start, end):
        raise Invalid(f"The check-out day {problem}.", fields=["to"])
    return start, end


@router.post("", response_model=ListingView, status_code=201, summary="Offer pet sitting",
             responses={**SIGNED_IN, **ALLOWED, **INVALID})
async def create_listing(
    body: ListingCreate, user: CurrentUser, resources: ResourcesDep
) -> ListingView:
    """You become the listing's sitter. `pricePerDay` is a decimal string ("45.00") or
    number with at most two decimals; answers always carry it as a string. Without
    `timezone`, the listing takes its US ZIP code's or state's, else America/New_York."""
    return await service.create_listing(resources, user, body)


@router.get("", response_model=ListingPage, summary="Search listings", responses=INVALID)
async def search_listings(
    resources: ResourcesDep,
    window: Annotated[tuple[date, date] | None, Depends(search_window)],
    city: Annotated[City | None, Query(description="Exact, regardless of case")] = None,
    service_: Annotated[Service | None, Query(alias="service")] = None,
    species: Annotated[Species | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=service.MAX_PAGE_SIZE)] = 20,
) -> ListingPage:
    """Available listings, newest first. With `from` and `to`, only those free for every
    night of `[from, to)`: no pending or confirmed booking and no blackout overlaps it (a
    stay that checks out on `from` does not)."""
    filters = service.Filters(city=city, service=service_, species=species, window=window)
    return await service.search_listings(resources, filters, page=page, page_size=page_size)


@router.get("/{listing_id}", response_model=ListingView, summary="Read a listing",
            responses=FOUND)
async def get_listing(listing_id: ListingId, resources: ResourcesDep) -> ListingView:
    """With the sitter's screenname and name. Unavailable listings are shown too."""
    return await service.get_listing(resources, listing_id)


@router.patch("/{listing_id}", response_model=ListingView, summary="Edit a listing",
              responses={**SIGNED_IN, **ALLOWED, **FOUND, **INVALID})
async def patch_listing(
    listing_id: ListingId, patch: ListingPatch, user: CurrentUser, resources: ResourcesDep
) -> ListingView:
    """The sitter or an administrator. Only the fields given change."""
    return await service.update_listing(resources, user, listing_id, patch)


@router.post("/{listing_id}/blackouts", response_model=BlackoutView, status_code=201,
             summary="Block nights", responses={
                 **SIGNED_IN, **ALLOWED, **FOUND, **INVALID,
                 **responses((Conflict, "A pending or confirmed booking holds some of the nights")),
             })
async def add_blackout(
    listing_id: ListingId, body: BlackoutCreate, user: CurrentUser, resources: ResourcesDep
) -> BlackoutView:
    """The sitter only. Blocks `[startDate, endDate)`: search and availability treat those
    nights as taken."""
    return await service.add_blackout(resources, user, listing_id, body)


@router.delete("/{listing_id}/blackouts/{blackout_id}", status_code=204,
               summary="Unblock nights",
               responses={**SIGNED_IN, **ALLOWED,
                          **responses((NotFound, "No such listing or blackout"))})
async def remove_blackout(
    listing_id: ListingId, blackout_id: BlackoutId, user: CurrentUser, resources: ResourcesDep
) -> Response:
    """The sitter only."""
    await service.remove_blackout(resources, user, listing_id, blackout_id)
    return Response(status_code=204)


@router.get("/{listing_id}/availability", response_model=Availability,
            summary="Taken nights", responses={**FOUND, **INVALID})
async def get_availability(
    listing_id: ListingId, resources: ResourcesDep,
    window: Annotated[tuple[date, date], Depends(required_window)],
) -> Availability:
    """Public: booked (pending or confirmed) and blocked ranges overlapping `[from, to)`, cut
    to it, as half-open `[startDate, endDate)`. Dates and kind only, nothing about who."""
    return await service.availability(resources, listing_id, window)
