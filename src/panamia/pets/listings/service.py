"""Listing use cases. Every mutation re-reads the listing inside its own transaction, under the
row lock its use case needs (see `queries`), and checks there who may do it."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Conflict, Forbidden, NotFound
from panamia.identity.dependencies import Principal
from panamia.pets.listings import places, queries
from panamia.pets.listings.models import Listing, ListingBlackout
from panamia.pets.listings.schemas import (
    Availability,
    BlackoutCreate,
    BlackoutView,
    ListingCreate,
    ListingPage,
    ListingPatch,
    ListingView,
    Range,
)
from panamia.resources import Resources

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    city: str | None = None
    service: str | None = None
    species: str | None = None
    window: tuple[date, date] | None = None


def not_found() -> NotFound:
    return NotFound("No such listing: its sitter may have removed it, or the link is "
                    "mistyped.", error="listing not found")


def to_view(row: Row) -> ListingView:
    values = row._mapping
    sitter = {"id": values["sitter_id"], "screenname": values["sitter_screenname"],
              "name": values["sitter_name"]}
    return ListingView.model_validate({**values, "sitter": sitter})


async def authorize(
    db: AsyncSession, user: Principal, listing_id: str, *, lock: dict[str, bool] | None,
    admins_too: bool,
) -> None:
    sitter_id = await queries.sitter_of(db, listing_id, lock=lock)
    if sitter_id is None:
        raise not_found()
    if sitter_id != user.id and not (admins_too and user.is_admin):
        who = "its sitter or an administrator" if admins_too else "its sitter"
        raise Forbidden(f"Only {who} may do this to this listing.")


async def create_listing(resources: Resources, user: Principal, body: ListingCreate) -> ListingView:
    """A time zone left out is the place's (its US ZIP code or state), else the default."""
    values = body.model_dump()
    if "timezone" not in body.model_fields_set:
        values["timezone"] = places.zone_for(zip_code=body.zip, place=body.city) or body.timezone
    async with resources.db.begin() as db:
        listing_id = await queries.insert_listing(db, user.id, values)
        return to_view(await queries.view(db, listing_id))


async def get_listing(resources: Resources, listing_id: str) -> ListingView:
    async with resources.reads() as db:
        row = await queries.view(db, listing_id)
    if row is None:
        raise not_found()
    return to_view(row)


async def listings_of(resources: Resources, sitter_id: str) -> list[ListingView]:
    async with resources.reads() as db:
        return [to_view(row) for row in await queries.of_sitter(db, sitter_id)]


async def search_listings(
    resources: Resources, filters: Filters, *, page: int, page_size: int
) -> ListingPage:
    async with resources.reads() as db:
        rows = await queries.search(
            db, city=filters.city, service=filters.service, species=filters.species,
            window=filters.window, offset=(page - 1) * page_size, limit=page_size + 1,
        )
    return ListingPage(
        items=[to_view(row) for row in rows[:page_size]], page=page, page_size=page_size,
        has_more=len(rows) > page_size,
    )


async def update_listing(
    resources: Resources, user: Principal, listing_id: str, patch: ListingPatch
) -> ListingView:
    changes = patch.model_dump(include=patch.model_fields_set)
    async with resources.db.begin() as db:
        await authorize(db, user, listing_id, lock=queries.FOR_NO_KEY_UPDATE, admins_too=True)
        if changes:
            await queries.update_listing(db, listing_id, changes)
        return to_view(await queries.view(db, listing_id))


async def add_blackout(
    resources: Resources, user: Principal, listing_id: str, body: BlackoutCreate
) -> BlackoutView:
    """Refused (409) over an active booking, with no window for a booking to slip in.

    `FOR UPDATE` on the listing conflicts with the `FOR KEY SHARE` that inserting a booking
    takes through its foreign key to the listing. So this waits until every booking of the
    listing still being inserted has committed or rolled back, and the check below (a new
    statement, so a new READ COMMITTED snapshot) sees it. A booking that starts afterwards
    waits until this blackout has committed, and sees it because it checks blackouts in a
    statement after its insert (bookings/service.py). Bookings only share the lock, so they never
    wait on each other, and editing a listing (`FOR NO KEY UPDATE`) does not block them.
    """
    async with resources.db.begin() as db:
        await authorize(db, user, listing_id, lock=queries.FOR_UPDATE, admins_too=False)
        booking = await queries.active_booking_over(db, listing_id, body.start_date,
                                                    body.end_date)
        if booking is not None:
            raise Conflict(
                f"A pending or confirmed booking holds the nights {booking.start_date} to "
                f"{booking.end_date} (check-out day); block other dates, or settle the booking "
                "first.", error="dates booked",
            )
        row = await queries.insert_blackout(db, listing_id, body.start_date, body.end_date)
    return BlackoutView.model_validate(row._mapping)


async def remove_blackout(
    resources: Resources, user: Principal, listing_id: str, blackout_id: str
) -> None:
    async with resources.db.begin() as db:
        await authorize(db, user, listing_id, lock=None, admins_too=False)
        if not await queries.delete_blackout(db, listing_id, blackout_id):
            raise NotFound("Those blocked nights are not on this listing (unblocked already?).",
                           error="blackout not found")


async def availability(
    resources: Resources, listing_id: str, window: tuple[date, date]
) -> Availability:
    start, end = window
    async with resources.reads() as db:
        available = await queries.is_available(db, listing_id)
        if available is None:
            raise not_found()
        ranges = await queries.taken_ranges(db, listing_id, start, end)
    return Availability(
        listing_id=listing_id, available=available, from_=start, to=end,
        ranges=[Range.model_validate(row._mapping) for row in ranges],
    )


async def listings_by_id(resources: Resources, listing_ids: set[str]) -> dict[str, ListingView]:
    """Several listings in one query (a page of bookings names their listings)."""
    if not listing_ids:
        return {}
    async with resources.reads() as db:
        rows = await db.execute(queries.VIEW.where(Listing.id.in_(listing_ids)))
    return {row.id: to_view(row) for row in rows}


async def list_blackouts(
    resources: Resources, user: Principal, listing_id: str, *, ending_after: date
) -> list[BlackoutView]:
    """The sitter's blackouts that still matter, with their ids, so one can be removed."""
    table = ListingBlackout.__table__
    async with resources.reads() as db:
        await authorize(db, user, listing_id, lock=None, admins_too=False)
        rows = await db.execute(
            select(table).where(table.c.listing_id == listing_id, table.c.end_date > ending_after)
            .order_by(table.c.start_date, table.c.id)
        )
    return [BlackoutView.model_validate(row._mapping) for row in rows]
