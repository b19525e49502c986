"""The exchange's JSON API.

Who may do what: any signed-in member lists things, bids, offers and buys, but never on their
own listing (403); the seller withdraws a listing (or an administrator), answers offers and
hands over; the buyer pays, confirms receipt, withdraws an offer; either party cancels an
unpaid transaction or disputes a paid one; only administrators settle a dispute. Reading a
listing, its bids and the search is public; offers and transactions are for their parties
(and administrators): to anyone else a transaction does not exist (404).
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from panamia.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, responses
from panamia.exchange import auctions, listings, offers, transactions
from panamia.exchange.schemas import (
    ID_PATTERN,
    BidCreate,
    BidPlaced,
    BidView,
    DisputeBody,
    Kind,
    ListingCreate,
    ListingPage,
    ListingView,
    OfferCreate,
    OfferView,
    TransactionView,
)
from panamia.exchange.states import OFFERS, TRANSACTIONS
from panamia.fields import Label
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.resources import ResourcesDep
from panamia.sidecar.idempotency import KeyHeader

router = APIRouter(tags=["exchange"])
Id = Annotated[str, Path(pattern=ID_PATTERN)]
CHECKED = SIGNED_IN | responses((Forbidden, "Not allowed, or the CSRF token is missing"),
                                Invalid)
KEPT = "or the same Idempotency-Key is still being processed"
LISTING = responses((NotFound, "No such listing"))


def now() -> datetime:
    return datetime.now(UTC)


@router.post("/listings", response_model=ListingView, status_code=201, summary="List an item",
             responses=CHECKED | responses((Conflict, f"Only {KEPT}")))
async def create_listing(body: ListingCreate, user: CurrentUser, resources: ResourcesDep,
                         idempotency_key: KeyHeader = None):
    """You become its seller. Send an `Idempotency-Key` to retry safely."""
    return (await listings.create_listing(resources, user, body, idempotency_key)).response()


@router.get("/listings", response_model=ListingPage, summary="Browse listings",
            responses=responses(Invalid))
async def browse(
    resources: ResourcesDep, kind: Kind | None = None, category: Label | None = None,
    city: Annotated[str | None, Query(max_length=100, description="Exact, any case")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title or "
                                                                "description")] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=listings.MAX_PAGE_SIZE)] = 20,
) -> ListingPage:
    """Open listings, newest first, matching every filter given."""
    filters = listings.Filters(kind=kind, category=category, city=city, words=q)
    return await listings.search(resources, filters, page=page, page_size=page_size)


@router.get("/listings/{listing_id}", response_model=ListingView, summary="Read a listing",
            responses=LISTING)
async def get_listing(listing_id: Id, resources: ResourcesDep) -> ListingView:
    """With an auction's high bid and the least the next bid may be; the reserve stays secret
    (`reserveMet` says whether it is reached)."""
    return await listings.get_listing(resources, listing_id)


@router.post("/listings/{listing_id}/withdraw", response_model=ListingView,
             summary="Withdraw a listing", responses=CHECKED | LISTING | responses(
                 (Conflict, "Not open, or an auction with bids")))
async def withdraw(listing_id: Id, user: CurrentUser, resources: ResourcesDep) -> ListingView:
    """The seller or an administrator; pending offers on it are declined."""
    return await listings.withdraw_listing(resources, user, listing_id, now())


@router.post("/listings/{listing_id}/bids", response_model=BidPlaced, status_code=201,
             summary="Bid", responses=CHECKED | responses(
                 (NotFound, "No such auction"),
                 (Conflict, "Too low (names the least amount that may be bid), the auction "
                            f"has ended, yours is already the highest bid, not enough money, {KEPT}")))
async def bid(listing_id: Id, body: BidCreate, user: CurrentUser, resources: ResourcesDep,
              idempotency_key: KeyHeader = None):
    """Beat the highest bid by at least the auction's increment (the first bid: reach the
    start price). The amount is held from your available money until you are outbid (then
    it is available again at once) or the auction ends. A bid in the last two minutes moves
    the end to two minutes after it. Not on your own auction (403)."""
    return (await auctions.place_bid(resources, user, listing_id, body,
                                     idempotency_key)).response()


@router.get("/listings/{listing_id}/bids", response_model=list[BidView], summary="Bid history",
            responses=LISTING)
async def bids(listing_id: Id, resources: ResourcesDep) -> list[BidView]:
    """Highest first, with each bidder's screenname."""
    return await auctions.bid_history(resources, listing_id)


@router.post("/listings/{listing_id}/offers", response_model=OfferView, status_code=201,
             summary="Make an offer", responses=CHECKED | LISTING | responses(
                 (Conflict, f"Listing no longer open, or you have an open offer on it, {KEPT}"),
                 (Invalid, "What the listing's kind asks is missing or out of place")))
async def make_offer(listing_id: Id, body: OfferCreate, user: CurrentUser,
                     resources: ResourcesDep, idempotency_key: KeyHeader = None):
    """An `amount` on a sale open to offers, a `swapListingId` (one of your own open
    listings) for a swap, nothing but a `message` for a free item. It expires after 3 days."""
    return (await offers.make_offer(resources, user, listing_id, body,
                                    idempotency_key)).response()


@router.get("/listings/{listing_id}/offers", response_model=list[OfferView],
            summary="Offers on a listing", responses=CHECKED | LISTING)
async def offers_on(listing_id: Id, user: CurrentUser, resources: ResourcesDep):
    """The seller sees them all; anyone else their own."""
    return await offers.offers_on(resources, user, listing_id)


@router.post("/listings/{listing_id}/buy", response_model=TransactionView, status_code=201,
             summary="Buy at the price", responses=CHECKED | LISTING | responses(
                 (Conflict, f"Not a sale, or no longer open, {KEPT}")))
async def buy(listing_id: Id, user: CurrentUser, resources: ResourcesDep,
              idempotency_key: KeyHeader = None):
    """Takes the listing and begins a transaction awaiting your payment (48 hours)."""
    return (await transactions.buy(resources, user, listing_id, idempotency_key)).response()


def offer_route(name: str, summary: str, doc: str):
    @router.post(f"/offers/{{offer_id}}/{name}", response_model=OfferView, summary=summary,
                 responses=CHECKED | responses(*OFFERS.responses(name)), description=doc,
                 name=f"{name}_offer")
    async def answer(offer_id: Id, user: CurrentUser, resources: ResourcesDep) -> OfferView:
        return await offers.answer(resources, user, offer_id, name, now())


offer_route("accept", "Accept an offer", "The seller, before it expires: the listing is taken, "
            "every other pending offer on it declined, and the transaction begins.")
offer_route("decline", "Decline an offer", "The seller.")
offer_route("withdraw", "Withdraw an offer", "The buyer who made it.")


@router.get("/transactions", response_model=list[TransactionView], summary="My transactions",
            responses=CHECKED)
async def my_transactions(user: CurrentUser, resources: ResourcesDep,
                          role: Literal["buyer", "seller"] | None = None):
    """Newest first, the latest 100."""
    return await transactions.transactions_of(resources, user, role=role)


@router.get("/transactions/{transaction_id}", response_model=TransactionView,
            summary="One transaction",
            responses=CHECKED | responses((NotFound, "No such transaction, or not yours")))
async def get_transaction(transaction_id: Id, user: CurrentUser, resources: ResourcesDep):
    """For its buyer, its seller and administrators."""
    return await transactions.get_transaction(resources, user, transaction_id)


STEP_DOCS = {
    "pay": "The buyer, before `payBy`: the price moves from your available money into escrow "
           "(409 when there is not enough).",
    "hand_over": "The seller, once paid: the buyer then has 7 days to confirm or dispute, "
                 "after which it completes by itself (`autoCompleteAt`).",
    "confirm": "The buyer has the item: the money goes to the seller, minus the platform fee.",
    "cancel": "Either party, while it awaits payment; the listing opens again.",
    "refund": "An administrator, on a disputed transaction: the money goes back to the buyer.",
    "release": "An administrator, on a disputed transaction: the money goes to the seller, "
               "minus the fee.",
}


def step_route(name: str):
    path = name.replace("_", "-")
    refusals = TRANSACTIONS.responses(name)
    if name in ("refund", "release"):
        refusals = ((Forbidden, "Administrators only; or CSRF token missing"), *refusals[1:])

    @router.post(f"/transactions/{{transaction_id}}/{path}", response_model=TransactionView,
                 summary=f"Transaction: {path}", description=STEP_DOCS[name],
                 responses=CHECKED | responses(*refusals), name=f"{name}_transaction")
    async def take(transaction_id: Id, user: CurrentUser, resources: ResourcesDep):
        return await transactions.step(resources, user, transaction_id, name, now())


for step_name in STEP_DOCS:
    step_route(step_name)


@router.post("/transactions/{transaction_id}/dispute", response_model=TransactionView,
             summary="Transaction: dispute",
             responses=CHECKED | responses(*TRANSACTIONS.responses("dispute"),
                                           (DomainError, "The body cannot be read as JSON")))
async def dispute(transaction_id: Id, body: DisputeBody, user: CurrentUser,
                  resources: ResourcesDep):
    """Either party, once paid and before completion: it is frozen, the money held, until an
    administrator refunds the buyer or releases it to the seller."""
    return await transactions.step(resources, user, transaction_id, "dispute", now(),
                                   reason=body.reason)
