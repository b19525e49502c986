"""Pages to find a sitter and ask for nights: search, a listing with its calendar and
reviews, the request form, and the sitter's blackouts (the listing form is in
`listings/pages.py`). Every action goes through the JSON API's services (`POST /bookings`, …).
A listing's page shows its reviews and takes requests, so it sits above the sub-packages."""

import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi import Path, Query, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Conflict, Invalid
from panamia.identity.dependencies import CurrentUser, OptionalUser, resolve_principal
from panamia.pets.bookings import service as bookings_service
from panamia.pets.bookings.pages import public_of
from panamia.pets.bookings.schemas import BookingRequest, BookingView
from panamia.pets.listings import places
from panamia.pets.listings import photo as listing_photo, service as listings_service
from panamia.pets.listings.models import SERVICES, SPECIES
from panamia.pets.listings.schemas import (
    ID_PATTERN,
    BlackoutCreate,
    ListingPage,
    ListingView,
    calendar_bounds,
    search_problem,
)
from panamia.pets.reviews import service as reviews_service
from panamia.resources import Resources
from panamia.sidecar import idempotency
from panamia.sidecar.pages import (
    HELPERS,
    Month,
    following,
    long_date,
    month_grid,
    month_start,
    money,
    nights,
    page_router,
    parse_date,
)

router = page_router()
ListingId = Path(pattern=ID_PATTERN)
PAGE_SIZE = 20
REVIEWS_SHOWN = 20
TAKEN = "Those dates were just taken — here is what is still free"
REQUEST_LABELS = {"startDate": "First night", "endDate": "Check-out day", "pets": "Pets",
                  "note": "Note for the sitter"}
CALENDAR_LABELS = {"free": "available", "booked": "booked", "blocked": "sitter away",
                   "past": "past"}

async def month_calendar(resources: Resources, listing_id: str, first: date,
                         today: date) -> Month:
    """The listing's month from the public availability use case: dates and kind only,
    nothing about who booked."""
    found = await listings_service.availability(resources, listing_id,
                                                (first, following(first)))
    return month_grid(first, found.ranges, today, CALENDAR_LABELS)


async def show(request: Request, template: str, **context):
    return await pages.render(request, template, nav="pets", **HELPERS, **context)


def today_at(listing: ListingView):
    return bookings_service.local_today(listing.timezone, datetime.now(UTC))


def resources(request: Request):
    return pages.resources_of(request)


def search_errors(start: str | None, end: str | None) -> dict[str, str]:
    """The date fields' messages, by field, for a search from `start` to `end`."""
    first, last = parse_date(start), parse_date(end)
    errors = {}
    if start and first is None:
        errors["from"] = "Enter a date like 2027-03-14."
    if end and last is None:
        errors["to"] = "Enter a date like 2027-03-17."
    if errors or (first is None and last is None):
        return errors
    if first is None or last is None:
        return {"from" if first is None else "to": "Give both dates, or neither."}
    problem = search_problem(first, last)
    return dict([problem]) if problem else {}


@router.get("/")
async def home(
    request: Request, start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"), city: str | None = None,
    service: str | None = None, species: str | None = None, page: int = Query(1, ge=1, le=1000),
):
    values = {"from": start or "", "to": end or "", "city": city or "", "service": service or "",
              "species": species or ""}
    errors = search_errors(start, end)
    first, last = parse_date(start), parse_date(end)
    filters = listings_service.Filters(
        city=(city or "").strip() or None, window=(first, last) if first and last else None,
        service=service if service in SERVICES else None,
        species=species if species in SPECIES else None,
    )
    # Listings under a date message would read as free for dates that were never searched.
    found = (ListingPage(items=[], page=page, page_size=PAGE_SIZE, has_more=False) if errors
             else await listings_service.search_listings(resources(request), filters, page=page,
                                                         page_size=PAGE_SIZE))
    return await show(request, "pets/home.html", title="Find a pet sitter", found=found,
                      values=values, errors=errors, services=SERVICES, species_list=SPECIES,
                      today=calendar_bounds(back=timedelta(days=1))[0].isoformat(),
                      public=await public_of(request, [i.sitter_id for i in found.items]),
                      photos=await listing_photo.PHOTO.photos(resources(request),
                                                              [i.id for i in found.items]),
                      labels={"from": "First night", "to": "Check-out day"},
                      status=422 if errors else 200, base={k: v for k, v in values.items() if v})


async def listing_page(
    request: Request, listing: ListingView, *, month: str | None = None, status: int = 200,
    values: dict | None = None, errors: dict | None = None, error: str | None = None,
    blackout_values: dict | None = None, blackout_errors: dict | None = None,
    own_request: BookingView | None = None,
):
    """The listing with its month grid, reviews, and the form its viewer may use: the request
    form for others, the blackouts for its sitter."""
    res = resources(request)
    today = today_at(listing)
    values = values or {"startDate": request.query_params.get("from", ""),
                        "endDate": request.query_params.get("to", "")}
    month = month or request.query_params.get("month")
    first = month_start(month, parse_date(values.get("startDate")) or today, today)
    cal = await month_calendar(res, listing.id, first, today)
    reviews = await reviews_service.list_reviews(res, listing.id, page=1, page_size=REVIEWS_SHOWN)
    sitter_reviews = await reviews_service.of_sitter(res, listing.sitter_id, latest=0)
    user = await resolve_principal(request, res)
    mine = user is not None and user.id == listing.sitter_id
    blackouts = (await listings_service.list_blackouts(res, user, listing.id, ending_after=today)
                 if mine else [])
    return await show(
        request, "pets/listing.html", status=status, title=listing.title, listing=listing,
        zone=places.in_words(listing.timezone), sitter_reviews=sitter_reviews,
        public=await public_of(request, [listing.sitter_id]),
        cal=cal, reviews=reviews, mine=mine, blackouts=blackouts, today=today,
        values=values, errors=errors or {}, error=error, conflict=error == TAKEN,
        own_request=own_request, photo=await listing_photo.PHOTO.photo(res, listing.id),
        labels=REQUEST_LABELS,
        pet_rows=range(min(listing.max_pets, 4)), idempotency_key=uuid.uuid4().hex,
        blackout_values=blackout_values or {}, blackout_errors=blackout_errors or {},
        price=money(listing.price_per_day, listing.currency),
    )


@router.get("/listings/{listing_id}")
async def listing(request: Request, user: OptionalUser, listing_id: str = ListingId):
    found = await listings_service.get_listing(resources(request), listing_id)
    return await listing_page(request, found)


def request_body(listing_id: str, form) -> tuple[dict, dict[int, int]]:
    """The JSON body of `POST /bookings` from the form; pet rows left empty are skipped, and
    `rows` maps each pet's place in the body back to its row in the form."""
    pets, rows = [], {}
    for row in range(20):
        name = (form.get(f"pets.{row}.name") or "").strip()
        if name:
            rows[len(pets)] = row
            pets.append({"name": name, "species": form.get(f"pets.{row}.species") or ""})
    body = {"listingId": listing_id, "startDate": form.get("startDate") or None,
            "endDate": form.get("endDate") or None, "pets": pets,
            "note": (form.get("note") or "").strip() or None}
    return body, rows


def request_errors(exc: ValidationError, rows: dict[int, int]) -> dict[str, str]:
    errors = {}
    for name, message in pages.field_errors(exc).items():
        parts = name.split(".")
        if parts[0] == "pets" and len(parts) == 3:
            name = f"pets.{rows.get(int(parts[1]), parts[1])}.{parts[2]}"
            if parts[2] == "species":
                message = "Choose a kind of pet this sitter takes."
        elif parts[0] == "pets":
            name, message = "pets", "Name at least one pet."
        elif parts[0] in ("startDate", "endDate") and "date" in message.lower():
            message = "Enter a date like 2027-03-14."
        errors.setdefault(name, message)
    return errors


async def refused_page(request: Request, found: ListingView, user, form: dict, problem: dict):
    """The listing again after a 409: what is still free, or, when the person's own request
    holds the nights, a link to it."""
    if problem["error"] != bookings_service.ALREADY_ASKED:
        return await listing_page(request, found, status=409, values=form, error=TAKEN)
    own = await bookings_service.own_booking_over(
        resources(request), user, found.id, parse_date(form.get("startDate")),
        parse_date(form.get("endDate")))
    return await listing_page(request, found, status=409, values=form, own_request=own,
                              error=problem["detail"].removesuffix(" See it in My bookings."))


@router.post("/listings/{listing_id}/book")
async def request_booking(request: Request, user: CurrentUser, listing_id: str = ListingId):
    res = resources(request)
    found = await listings_service.get_listing(res, listing_id)
    form = await pages.read_form(request)
    body, rows = request_body(listing_id, form)
    try:
        answer = await bookings_service.request_booking(
            res, user, BookingRequest.model_validate(body), form.get("idempotencyKey") or None)
    except ValidationError as exc:
        return await listing_page(request, found, status=422, values=form,
                                  errors=request_errors(exc, rows))
    except Invalid as exc:
        errors = {("form" if f == "listingId" else f): m
                  for f, m in pages.invalid_errors(exc).items()}
        return await listing_page(request, found, status=422, values=form, errors=errors,
                                  error=errors.pop("form", None))
    except Conflict as exc:  # without a key, the 409 comes as an exception
        answer = idempotency.Answer(exc.status, exc.body())
    if answer.status == 409:
        return await refused_page(request, found, user, form, answer.body)
    booking = answer.body
    total = money(found.price_per_day * booking["nights"], found.currency)
    return pages.redirect(request, "/bookings", notice=(
        f"Request sent for {long_date(parse_date(booking['startDate']))} to "
        f"{long_date(parse_date(booking['endDate']))}, {nights(booking['nights'])}, "
        f"{total} in all. The sitter has 48 hours to answer."))


@router.post("/listings/{listing_id}/blackouts/add")
async def add_blackout(request: Request, user: CurrentUser, listing_id: str = ListingId):
    res = resources(request)
    found = await listings_service.get_listing(res, listing_id)
    form = await pages.read_form(request)
    try:
        body = BlackoutCreate.model_validate({"startDate": form.get("startDate") or None,
                                              "endDate": form.get("endDate") or None})
        await listings_service.add_blackout(res, user, listing_id, body)
    except ValidationError as exc:
        errors = {k: ("Enter a date like 2027-03-14." if "date" in v.lower() and "after" not in v
                      else v) for k, v in pages.field_errors(exc).items()}
        return await listing_page(request, found, status=422, blackout_values=form,
                                  blackout_errors=errors, month=form.get("month"))
    except Conflict as exc:
        return await listing_page(request, found, status=409, blackout_values=form,
                                  blackout_errors={"startDate": exc.detail},
                                  month=form.get("month"))
    return pages.redirect(
        request, f"/listings/{listing_id}?month={body.start_date:%Y-%m}#calendar",
        notice=f"Blocked {long_date(body.start_date)} until {long_date(body.end_date)}.")


@router.post("/listings/{listing_id}/blackouts/{blackout_id}/remove")
async def remove_blackout(
    request: Request, user: CurrentUser, listing_id: str = ListingId,
    blackout_id: str = Path(pattern=ID_PATTERN),
):
    await listings_service.remove_blackout(resources(request), user, listing_id, blackout_id)
    return pages.redirect(request, f"/listings/{listing_id}#blackouts",
                          notice="Those nights are open again.")
