"""The exchange's pages, for browsers without JavaScript: browse with filters, an item with its
bids or offers and the forms to bid, offer, buy or answer, the form to list an item, and "My
transactions" with a button for each step the member may take. Every action goes through the
same services as the JSON API; a refusal shows the page again with the reason in plain words."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import Path, Query, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Conflict, Forbidden, Invalid, NotFound
from panamia.exchange import auctions, listings, offers, transactions
from panamia.exchange.models import CONDITIONS, KINDS
from panamia.exchange.schemas import ID_PATTERN, BidCreate, ListingCreate, OfferCreate
from panamia.exchange.states import ADMIN_STEPS, STEPS
from panamia.identity.dependencies import (
    CurrentUser,
    OptionalUser,
    Principal,
    resolve_principal,
)
from panamia.sidecar import idempotency
from panamia.sidecar.pages import HELPERS, page_router, words
from panamia.sidecar.states import ANY_PARTY

router = page_router()
Id = Annotated[str, Path(pattern=ID_PATTERN)]
KIND_WORDS = {"sale": "For sale", "auction": "Auction", "swap": "Swap", "free": "Free"}
STATUS_WORDS = {
    "awaiting_payment": "Waiting for payment", "paid": "Paid, money held",
    "handed_over": "Handed over", "completed": "Completed", "cancelled": "Cancelled",
    "disputed": "Disputed, money held", "refunded": "Refunded",
}
BUTTONS = {"pay": "Pay now", "hand_over": "I handed it over", "confirm": "I received it",
           "cancel": "Cancel", "refund": "Refund the buyer", "release": "Pay the seller"}
DONE = {"pay": "Paid. The money is held until you confirm you received the item.",
        "hand_over": "Marked as handed over. The buyer has 7 days to confirm.",
        "confirm": "Thank you: the seller is paid.", "cancel": "Cancelled.",
        "dispute": "Your dispute is open; the money stays held until an administrator "
                   "settles it.",
        "refund": "Refunded: the buyer has the money back.",
        "release": "Released: the seller is paid."}
LABELS = {"kind": "Kind", "title": "Title", "description": "Description",
          "category": "Category", "condition": "Condition", "city": "City",
          "photos": "Photo links", "price": "Price", "startPrice": "Starting price",
          "reservePrice": "Reserve price", "minIncrement": "Bids go up by", "days": "Runs for",
          "amount": "Amount", "swapListingId": "Your item", "message": "Message",
          "reason": "What went wrong"}
TEXTS = ("kind", "title", "description", "category", "condition", "city", "photos", "price",
         "startPrice", "reservePrice", "minIncrement", "days", "openToOffers")
TERMS = {"sale": ("price", "openToOffers"),
         "auction": ("startPrice", "reservePrice", "minIncrement")}
DAYS = (1, 3, 5, 7, 10)
CONTEXT = {**HELPERS, "kind_words": KIND_WORDS, "status_words": STATUS_WORDS, "words": words}


async def show(request: Request, template: str, **context):
    return await pages.render(request, template, nav="exchange", **CONTEXT, **context)


@router.get("/")
async def browse(request: Request, kind: str | None = None, category: str | None = None,
                 city: str | None = None, q: str | None = None,
                 page: int = Query(1, ge=1, le=1000)):
    values = {"kind": kind if kind in KINDS else "", "category": (category or "").strip(),
              "city": (city or "").strip(), "q": (q or "").strip()[:200]}
    filters = listings.Filters(kind=values["kind"] or None,
                               category=values["category"].lower()[:40] or None,
                               city=values["city"][:100] or None, words=values["q"] or None)
    found = await listings.search(pages.resources_of(request), filters, page=page,
                                  page_size=24)
    return await show(request, "exchange/home.html", title="Exchange", found=found,
                      values=values, kinds=KINDS, page=page)


def form_values(form: dict) -> dict:
    return {name: (form.get(name) or "").strip() for name in TEXTS}


def listing_body(values: dict, now: datetime) -> dict:
    """The JSON body of `POST /listings`: the terms of the chosen kind only."""
    body = {name: values[name] for name in ("kind", "title", "category", "condition", "city")}
    body["description"] = values["description"] or None
    body["photos"] = [line.strip() for line in values["photos"].splitlines() if line.strip()]
    for name in TERMS.get(values["kind"], ()):
        if name == "openToOffers":
            body[name] = values[name] == "on"
        elif values[name]:
            body[name] = values[name]
    if values["kind"] == "auction" and values["days"].isdigit():
        body["endsAt"] = (now + timedelta(days=int(values["days"]))).isoformat()
    return body


def listing_errors(exc: ValidationError) -> dict[str, str]:
    errors = {}
    for name, message in pages.field_errors(exc).items():
        if name.startswith("photos"):
            name, message = "photos", "Give one web address (https://…) per line."
        elif name in ("price", "startPrice", "reservePrice", "minIncrement") \
                and "Fill this in" not in message:
            message = "Enter an amount such as 25 or 25.50."
        errors.setdefault(name if name in LABELS else "form", message)
    return errors


async def listing_form(request: Request, *, values: dict | None = None,
                       errors: dict | None = None, status: int = 200):
    return await show(request, "exchange/listing_form.html", status=status,
                      title="List an item", values=values or {"kind": "sale", "days": "7"},
                      errors=errors or {}, labels=LABELS, kinds=KINDS, conditions=CONDITIONS,
                      days=DAYS, idempotency_key=uuid.uuid4().hex)


@router.get("/listings/new")
async def new_listing(request: Request, user: CurrentUser):
    return await listing_form(request)


@router.post("/listings/new")
async def create_listing(request: Request, user: CurrentUser):
    form = await pages.read_form(request)
    values = form_values(form)
    missing = {name: "Fill this in." for name in
               {"sale": ("price",), "auction": ("startPrice",)}.get(values["kind"], ())
               if not values[name]}
    try:
        body = ListingCreate.model_validate(listing_body(values, datetime.now(UTC)))
    except ValidationError as exc:
        errors = missing | listing_errors(exc)
        return await listing_form(request, values=values, errors=errors, status=422)
    answer = await listings.create_listing(pages.resources_of(request), user, body,
                                           form.get("idempotencyKey") or None)
    return pages.redirect(request, f"/listings/{answer.body['id']}",
                          notice="Your item is listed.")


async def item_page(request: Request, listing_id: str, *, status: int = 200,
                    error: str | None = None, values: dict | None = None,
                    errors: dict | None = None):
    res = pages.resources_of(request)
    item = await listings.get_listing(res, listing_id)
    user = await resolve_principal(request, res)
    mine = user is not None and user.id == item.seller.id
    bids = await auctions.bid_history(res, listing_id) if item.kind == "auction" else []
    offered = await offers.offers_on(res, user, listing_id) if user else []
    swappable = []
    if user and not mine and item.kind == "swap":
        own = await listings.search(res, listings.Filters(kind="swap", seller_id=user.id),
                                    page=1, page_size=50)
        swappable = own.items
    return await show(request, "exchange/item.html", status=status, title=item.title,
                      item=item, mine=mine, bids=bids, offered=offered, swappable=swappable,
                      error=error, values=values or {}, errors=errors or {}, labels=LABELS,
                      idempotency_key=uuid.uuid4().hex)


@router.get("/listings/{listing_id}")
async def item(request: Request, user: OptionalUser, listing_id: Id):
    return await item_page(request, listing_id)


def amount_of(text: str | None) -> Decimal | str | None:
    try:
        return Decimal((text or "").strip().lstrip("$")) if (text or "").strip() else None
    except InvalidOperation:
        return text


async def refused(request: Request, listing_id: str, exc: Exception, field: str):
    """The item page again, saying why (422 beside the field, 409 at the top)."""
    if isinstance(exc, ValidationError):
        message = pages.field_errors(exc).popitem()[1]
        if field == "amount":
            message = "Enter an amount such as 25 or 25.50."
        return await item_page(request, listing_id, status=422, errors={field: message})
    if isinstance(exc, Invalid):
        return await item_page(request, listing_id, status=422,
                               errors={field: pages.sentence(exc.detail)})
    return await item_page(request, listing_id, status=exc.status, error=exc.detail)


async def went_on(request: Request, listing_id: str, answer: idempotency.Answer, where: str,
                  notice: str):
    """Created: on to `where`, saying `notice`. A 409 kept with the form's key (the form sent
    twice after a refusal) shows the item page with its reason again."""
    if answer.status != 201:
        return await item_page(request, listing_id, status=answer.status,
                               error=answer.body["detail"])
    return pages.redirect(request, where, notice=notice)


@router.post("/listings/{listing_id}/bids")
async def bid(request: Request, user: CurrentUser, listing_id: Id):
    form = await pages.read_form(request)
    try:
        body = BidCreate.model_validate({"amount": amount_of(form.get("amount"))})
        answer = await auctions.place_bid(pages.resources_of(request), user, listing_id, body,
                                          form.get("idempotencyKey") or None)
    except (ValidationError, Invalid, Conflict, Forbidden) as exc:
        return await refused(request, listing_id, exc, "amount")
    amount = HELPERS["money"](body.amount, answer.body.get("currency", ""))
    return await went_on(request, listing_id, answer, f"/listings/{listing_id}", (
        f"Your bid of {amount} leads. The amount is held until you are outbid or the auction "
        "ends."))


@router.post("/listings/{listing_id}/offers")
async def offer(request: Request, user: CurrentUser, listing_id: Id):
    form = await pages.read_form(request)
    raw = {"amount": amount_of(form.get("amount")),
           "swapListingId": form.get("swapListingId") or None,
           "message": (form.get("message") or "").strip() or None}
    try:
        body = OfferCreate.model_validate({k: v for k, v in raw.items() if v is not None})
        answer = await offers.make_offer(pages.resources_of(request), user, listing_id, body,
                                         form.get("idempotencyKey") or None)
    except (ValidationError, Invalid, Conflict, Forbidden) as exc:
        field = next((f for f in ("amount", "swapListingId") if raw[f] is not None), "message")
        if isinstance(exc, Invalid) and exc.fields:
            field = exc.fields[0]
        return await refused(request, listing_id, exc, field)
    return await went_on(request, listing_id, answer, f"/listings/{listing_id}",
                         "Your offer is sent. The seller has 3 days to answer.")


@router.post("/listings/{listing_id}/buy")
async def buy(request: Request, user: CurrentUser, listing_id: Id):
    form = await pages.read_form(request)
    try:
        answer = await transactions.buy(pages.resources_of(request), user, listing_id,
                                        form.get("idempotencyKey") or None)
    except (Conflict, Forbidden) as exc:
        return await refused(request, listing_id, exc, "form")
    return await went_on(request, listing_id, answer, f"/transactions/{answer.body.get('id')}",
                         "It is yours once you pay: you have 48 hours.")


@router.post("/listings/{listing_id}/withdraw")
async def withdraw(request: Request, user: CurrentUser, listing_id: Id):
    try:
        await listings.withdraw_listing(pages.resources_of(request), user, listing_id,
                                        datetime.now(UTC))
    except Conflict as exc:
        return await item_page(request, listing_id, status=409, error=exc.detail)
    return pages.redirect(request, f"/listings/{listing_id}", notice="Your listing is withdrawn.")


@router.post("/offers/{offer_id}/answer")
async def answer_offer(request: Request, user: CurrentUser, offer_id: Id):
    form = await pages.read_form(request)
    step, listing_id = form.get("step", ""), form.get("listingId", "")
    if step not in ("accept", "decline", "withdraw"):
        raise NotFound("That button is not one this page offers.")
    try:
        answered = await offers.answer(pages.resources_of(request), user, offer_id, step,
                                       datetime.now(UTC))
    except Conflict as exc:
        return await item_page(request, listing_id, status=409, error=exc.detail)
    notice = {"accept": "Offer accepted: the buyer is told and the deal is in your "
                        "transactions.", "decline": "Offer declined.",
              "withdraw": "Your offer is withdrawn."}[step]
    return pages.redirect(request, f"/listings/{answered.listing_id}", notice=notice)


def steps_for(user: Principal, deal, now: datetime) -> list[str]:
    """The steps this member may take now, read from the declaration (an administrator's:
    settling a dispute); the service decides again on submit."""
    roles = {role for role, party in (("buyer", deal.buyer_id), ("seller", deal.seller_id))
             if party == user.id}
    return [name for name, step in STEPS.items()
            if name in BUTTONS and deal.status in step.sources
            and (step.actor in roles or (step.actor == ANY_PARTY and roles)
                 or (name in ADMIN_STEPS and user.is_admin))
            and not (name == "pay" and deal.pay_by and deal.pay_by <= now)]


def may_dispute(user: Principal, deal) -> bool:
    return (deal.status in STEPS["dispute"].sources
            and user.id in (deal.buyer_id, deal.seller_id))


async def transactions_page(request: Request, user: Principal, *, only: str | None = None,
                            disputes: bool = False, status: int = 200,
                            error: str | None = None):
    res = pages.resources_of(request)
    if only:
        deals = [await transactions.get_transaction(res, user, only)]
    elif disputes:
        deals = await transactions.disputed(res, user)
    else:
        deals = await transactions.transactions_of(res, user, role=None)
    now = datetime.now(UTC)
    rows = [(deal, steps_for(user, deal, now), may_dispute(user, deal)) for deal in deals]
    title = "Disputes to settle" if disputes else "My transactions"
    return await show(request, "exchange/transactions.html", status=status, title=title,
                      rows=rows, buttons=BUTTONS, error=error, one=only is not None,
                      errors={}, labels=LABELS)


@router.get("/disputes")
async def disputes(request: Request, user: CurrentUser):
    """For administrators: every disputed transaction, oldest first, to refund or release."""
    return await transactions_page(request, user, disputes=True)


@router.get("/transactions")
async def my_transactions(request: Request, user: CurrentUser):
    return await transactions_page(request, user)


@router.get("/transactions/{transaction_id}")
async def one_transaction(request: Request, user: CurrentUser,
                          transaction_id: Id):
    return await transactions_page(request, user, only=transaction_id)


@router.post("/transactions/{transaction_id}/step")
async def take_step(request: Request, user: CurrentUser, transaction_id: Id):
    form = await pages.read_form(request)
    step = form.get("step", "")
    reason = (form.get("reason") or "").strip()
    if step not in (*BUTTONS, "dispute"):
        raise NotFound("That button is not one this page offers.")
    if step == "dispute" and not reason:
        return await transactions_page(request, user, only=transaction_id, status=422,
                                       error="Say what went wrong, so that an administrator "
                                             "can settle it.")
    try:
        await transactions.step(pages.resources_of(request), user, transaction_id, step,
                                datetime.now(UTC), reason=reason[:2000] or None)
    except Conflict as exc:
        return await transactions_page(request, user, only=transaction_id, status=409,
                                       error=f"Not done: {exc.detail}")
    return pages.redirect(request, f"/transactions/{transaction_id}", notice=DONE[step])
