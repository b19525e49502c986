"""Pages without JavaScript: browse items, an item with the hours taken in the coming weeks
(in the owner's time zone) and the form to ask for it, the form to list an item, and "my
rentals" with a button for each step the viewer may take. Every action goes through the
same services as the JSON API."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fastapi import Path, Query, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Conflict, Invalid
from panamia.fields import time_zones
from panamia.identity.dependencies import CurrentUser, OptionalUser, Principal
from panamia.rentals import items, service
from panamia.rentals.models import CATEGORIES
from panamia.rentals.schemas import (
    ID_PATTERN,
    ClaimBody,
    ItemCreate,
    ItemPatch,
    ItemView,
    RentalListItem,
    RentalRequest,
)
from panamia.rentals.states import ANSWER_WITHIN, TRANSITIONS
from panamia.sidecar.pages import HELPERS, page_router

router = page_router()
ItemId = Path(pattern=ID_PATTERN)
DAYS_SHOWN = 21
TAKEN = "That time was just taken, or runs into the turnaround after another rental. Here " \
        "is what is taken in the coming weeks."
ITEM_LABELS = {"title": "What you lend", "description": "Description", "category": "Kind",
               "price": "Price", "priceUnit": "Per", "minUnits": "Shortest rental",
               "bufferMinutes": "Turnaround after each rental (minutes)",
               "deposit": "Deposit", "currency": "Currency", "timezone": "Your time zone"}
ITEM_DEFAULTS = {"category": "tools", "priceUnit": "hour", "minUnits": "1",
                 "bufferMinutes": "30", "deposit": "0", "currency": "USD",
                 "timezone": "America/New_York"}
REQUEST_LABELS = {"startsAt": "From", "endsAt": "Until", "note": "Note for the owner"}
BUTTONS = {"confirm": "Confirm", "decline": "Decline", "cancel": "Cancel rental",
           "pick_up": "Handed over", "return": "Returned in good order",
           "accept_claim": "Accept the claim", "dispute": "Dispute the claim"}
DONE = {"confirm": "Rental confirmed: the fee and deposit are held. The renter is told.",
        "decline": "Request declined; that time is free again.",
        "cancel": "Rental cancelled; any money held went back to the renter.",
        "pick_up": "Hand-over recorded.",
        "return": "Return confirmed: the deposit went back to the renter, the fee to you.",
        "claim": "Claim recorded. The renter can accept or dispute it.",
        "accept_claim": "Claim accepted; the rest of the deposit is back in your balance.",
        "dispute": "Claim disputed. An admin will settle it."}


def show(request: Request, template: str, **context):
    return pages.render(request, template, nav="rentals", **HELPERS, **context)


@router.get("/")
async def browse(request: Request, category: str | None = None,
                 page: int = Query(1, ge=1, le=1000)):
    chosen = category if category in CATEGORIES else None
    found = await items.list_items(pages.resources_of(request), category=chosen, page=page)
    return await show(request, "rentals/home.html", title="Rent things from neighbours",
                      found=found, categories=CATEGORIES, category=chosen,
                      base={"category": chosen} if chosen else {})


async def item_form(request: Request, *, values: dict | None = None, errors: dict | None = None,
                    status: int = 200):
    return await show(request, "rentals/item_form.html", status=status, title="Lend something",
                      values=values or ITEM_DEFAULTS, errors=errors or {}, labels=ITEM_LABELS,
                      categories=CATEGORIES, zones=time_zones())


@router.get("/items/new")
async def new_item(request: Request, user: CurrentUser):
    return await item_form(request)


@router.post("/items/new")
async def create_item(request: Request, user: CurrentUser):
    form = await pages.read_form(request)
    values = {name: (form.get(name) or "").strip() for name in ITEM_LABELS}
    try:
        body = ItemCreate.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as exc:
        errors = {name: message for name, message in pages.field_errors(exc).items()}
        return await item_form(request, values=values, errors=errors, status=422)
    item = await items.create_item(pages.resources_of(request), user, body)
    return pages.redirect(request, f"/items/{item.id}", notice="Your item is listed.")


@dataclass(frozen=True)
class Span:
    start: str
    end: str
    kind: str


@dataclass(frozen=True)
class Day:
    day: date
    spans: list[Span]


def local_days(item: ItemView, taken, today: date) -> list[Day]:
    """Each of the coming days in the owner's zone with the times taken on it, clipped to it."""
    zone = items.zone_of(item)
    days = []
    for offset in range(DAYS_SHOWN):
        day = today + timedelta(days=offset)
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        spans = [Span(f"{max(t.starts_at, start).astimezone(zone):%H:%M}",
                      "24:00" if t.ends_at >= end else f"{t.ends_at.astimezone(zone):%H:%M}",
                      t.kind)
                 for t in taken if t.starts_at < end and t.ends_at > start]
        days.append(Day(day, spans))
    return days


async def item_page(request: Request, item: ItemView, user: Principal | None, *,
                    values: dict | None = None,
                    errors: dict | None = None, error: str | None = None, status: int = 200):
    res = pages.resources_of(request)
    zone = items.zone_of(item)
    today = datetime.now(zone).date()
    first = datetime.combine(today, time(0), tzinfo=zone)
    found = await items.availability(res, item.id, first,
                                     first + timedelta(days=DAYS_SHOWN + 1))
    return await show(
        request, "rentals/item.html", status=status, title=item.title, item=item,
        days=local_days(item, found.taken, today), mine=user is not None and
        user.id == item.owner_id, values=values or {}, errors=errors or {}, error=error,
        labels=REQUEST_LABELS, idempotency_key=uuid.uuid4().hex,
    )


@router.get("/items/{item_id}")
async def item(request: Request, user: OptionalUser, item_id: str = ItemId):
    found = await items.get_item(pages.resources_of(request), item_id)
    return await item_page(request, found, user)


@router.post("/items/{item_id}/rent")
async def rent(request: Request, user: CurrentUser, item_id: str = ItemId):
    res = pages.resources_of(request)
    found = await items.get_item(res, item_id)
    form = await pages.read_form(request)
    try:
        body = RentalRequest.model_validate({
            "itemId": item_id, "startsAt": form.get("startsAt") or None,
            "endsAt": form.get("endsAt") or None, "note": (form.get("note") or "").strip() or None})
        answer = await service.request_rental(res, user, body, form.get("idempotencyKey") or None)
    except ValidationError as exc:
        errors = {name: ("Enter a date and time like 2027-03-14 10:00." if "datetime" in message
                         else message) for name, message in pages.field_errors(exc).items()}
        return await item_page(request, found, user, values=form, errors=errors, status=422)
    except Invalid as exc:
        errors = pages.invalid_errors(exc)
        return await item_page(request, found, user, values=form, errors=errors, status=422,
                               error=errors.pop("itemId", None))
    except Conflict:
        answer = None
    if answer is None or answer.status == 409:
        return await item_page(request, found, user, values=form, error=TAKEN, status=409)
    rental = answer.body
    return pages.redirect(request, "/rentals", notice=(
        f"Request sent: {rental['fee']} {rental['currency']} for the time, and a deposit of "
        f"{rental['deposit']} {rental['currency']}, both held once the owner confirms. The "
        f"owner has {ANSWER_WITHIN.days * 24} hours to answer."))


@router.post("/items/{item_id}/available")
async def open_or_close(request: Request, user: CurrentUser, item_id: str = ItemId):
    available = (await pages.read_form(request)).get("available") == "on"
    await items.change_item(pages.resources_of(request), user, item_id,
                            ItemPatch(available=available))
    return pages.redirect(request, f"/items/{item_id}", notice=(
        "Your item takes requests again." if available else
        "Your item takes no new requests; the rentals already asked for are kept."))


@dataclass(frozen=True)
class Row:
    rental: RentalListItem
    role: str
    steps: list[str]
    can_claim: bool


def steps_for(rental: RentalListItem, role: str, now: datetime) -> list[str]:
    """The steps the viewer may take now, read from the declaration; the service decides
    again on submit."""
    allowed = []
    for name, step in TRANSITIONS.items():
        if (name not in BUTTONS or rental.status not in step.sources
                or step.actor not in (role, "party")):
            continue
        if step.timing == "before_start" and now >= rental.starts_at:
            continue
        if step.timing == "unanswered" and now >= min(rental.created_at + ANSWER_WITHIN,
                                                      rental.starts_at):
            continue
        allowed.append(name)
    return allowed


async def rentals_page(request: Request, user: Principal, *, status: int = 200,
                       error: str | None = None):
    found = await service.list_rentals(pages.resources_of(request), user)
    now = datetime.now(UTC)
    rows = []
    for rental in found.items:
        role = "owner" if rental.owner_id == user.id else "renter"
        can_claim = role == "owner" and rental.status in TRANSITIONS["claim"].sources
        rows.append(Row(rental, role, steps_for(rental, role, now), can_claim))
    return await show(request, "rentals/rentals.html", status=status, title="My rentals",
                      renting=[r for r in rows if r.role == "renter"],
                      lending=[r for r in rows if r.role == "owner"], more=found.has_more,
                      error=error, buttons=BUTTONS, errors={}, labels={})


@router.get("/rentals")
async def my_rentals(request: Request, user: CurrentUser):
    return await rentals_page(request, user)


@router.post("/rentals/{rental_id}/step")
async def take_step(request: Request, user: CurrentUser, rental_id: str = Path(
        pattern=ID_PATTERN)):
    form = await pages.read_form(request)
    step = form.get("step", "")
    if step not in DONE:
        return await rentals_page(request, user, status=400,
                                  error="That button is not one this page offers.")
    try:
        details = ClaimBody.model_validate({"amount": form.get("amount") or None,
                                            "reason": form.get("reason") or None}) \
            if step == "claim" else None
        await service.transition(pages.resources_of(request), user, rental_id, step, details)
    except ValidationError:
        return await rentals_page(request, user, status=422, error=(
            "Not done: a claim needs the amount kept of the deposit (like 25.00) and what "
            "is damaged."))
    except (Conflict, Invalid) as exc:
        return await rentals_page(request, user, status=exc.status,
                                  error=f"Not done: {exc.detail}")
    return pages.redirect(request, "/rentals", notice=DONE[step])
