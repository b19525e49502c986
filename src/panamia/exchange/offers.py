"""Offers on a listing: a price on a sale open to offers, one of the buyer's own listings for
a swap, a request for a free item. The seller accepts one (which declines every other pending
offer on the listing, and on the item given in exchange, in the same transaction, and begins
the transaction), declines, or lets it expire; the buyer may withdraw it."""

from datetime import datetime

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id, violation
from panamia.errors import Conflict, Forbidden, Invalid, NotFound
from panamia.exchange import notices, transactions
from panamia.exchange.idempotent import create
from panamia.exchange.listings import decline_pending, find, tell_declined
from panamia.exchange.models import ExchangeListing, ExchangeOffer
from panamia.exchange.schemas import OfferCreate, OfferView
from panamia.exchange.states import OFFER_LIFETIME, OFFER_STEPS, OFFERS
from panamia.identity.dependencies import Principal
from panamia.resources import Resources
from panamia.sidecar import idempotency
from panamia.sidecar.pages import money as shown

listings, offers = ExchangeListing.__table__, ExchangeOffer.__table__
ONE_PENDING = "uq_exchange_offers_one_pending"


def to_view(row: Row) -> OfferView:
    return OfferView.model_validate(row._asdict())


async def check_offer(session: AsyncSession, listing: Row | None, user: Principal,
                      body: OfferCreate) -> None:
    """What the listing's kind asks of an offer; each refusal names the field at fault."""
    if listing is None:
        raise NotFound("No listing with this id.", error="listing not found")
    if listing.seller_id == user.id:
        raise Forbidden("You cannot make an offer on your own listing.")
    if listing.status != "open":
        raise Conflict(f"The listing is {listing.status}; it takes no more offers.")
    if listing.kind == "auction":
        raise Invalid("An auction takes bids, not offers.", fields=["amount"])
    if listing.kind == "sale" and not listing.open_to_offers:
        raise Invalid("The seller takes no offers on this sale: buy it at its price.",
                      fields=["amount"])
    if (listing.kind == "sale") != (body.amount is not None):
        raise Invalid("Offer an amount on a sale, and only on a sale.", fields=["amount"])
    if (listing.kind == "swap") != (body.swap_listing_id is not None):
        raise Invalid("Offer one of your own listings in exchange for a swap, and only for a "
                      "swap.", fields=["swapListingId"])
    if body.swap_listing_id:
        mine = (await session.execute(select(listings.c.seller_id, listings.c.status).where(
            listings.c.id == body.swap_listing_id))).first()
        if mine is None or mine.seller_id != user.id or mine.status != "open":
            raise Invalid("Offer one of your own open listings in exchange.",
                          fields=["swapListingId"])
        if body.swap_listing_id == listing.id:
            raise Invalid("An item cannot be swapped for itself.", fields=["swapListingId"])


async def make_offer(resources: Resources, user: Principal, listing_id: str, body: OfferCreate,
                     key: str | None) -> idempotency.Answer:
    async def make(session: AsyncSession, now: datetime) -> dict:
        listing = await find(session, listing_id)
        await check_offer(session, listing, user, body)
        try:
            async with session.begin_nested():
                row = (await session.execute(insert(offers).values(
                    id=new_id(), listing_id=listing_id, seller_id=listing.seller_id,
                    buyer_id=user.id, currency=listing.currency, expires_at=now + OFFER_LIFETIME,
                    **body.model_dump()).returning(*offers.c))).one()
        except IntegrityError as exc:
            if violation(exc)[1] != ONE_PENDING:
                raise
            raise Conflict("You already have an open offer on this listing: withdraw it or "
                           "wait for the answer.", error="offer pending") from None
        what = (f"{shown(row.amount, row.currency)} offered" if row.amount
                else "a swap offered" if row.swap_listing_id else "asked for")
        await notices.tell(session, "Offer", notices.item(
            resources.settings, listing_id, f"{listing.title}: {what}"),
            actor_id=user.id, parties=(user.id, listing.seller_id))
        return to_view(row).model_dump(mode="json", by_alias=True)

    return await create(resources, user, key, scope="exchange.offers",
                        operation=f"POST /listings/{listing_id}/offers",
                        body=body.model_dump(mode="json"), make=make)


async def lock_listings_of(session: AsyncSession, offer_id: str) -> None:
    """Lock the offer's listing (and the item offered in exchange) before the offer, in id
    order: buying and withdrawing lock the listing before its offers too, so none of them
    waits for another while holding what that one needs."""
    wanted = select(offers.c.listing_id, offers.c.swap_listing_id).where(offers.c.id == offer_id)
    found = (await session.execute(wanted)).first()
    if found is not None:
        ids = [i for i in found if i is not None]
        await session.execute(select(listings.c.id).where(listings.c.id.in_(ids))
                              .order_by(listings.c.id).with_for_update())


async def take_listing(session: AsyncSession, listing_id: str, seller_id: str, now: datetime,
                       gone: str) -> None:
    """Open → taken, only if it is still open and still `seller_id`'s; else 409 `gone`."""
    taken = (await session.execute(
        update(listings).where(listings.c.id == listing_id, listings.c.status == "open",
                               listings.c.seller_id == seller_id)
        .values(status="taken", updated_at=now).returning(listings.c.id))).first()
    if taken is None:
        raise Conflict(gone)


async def answer(resources: Resources, user: Principal, offer_id: str, name: str,
                 now: datetime) -> OfferView:
    """accept, decline (the seller) or withdraw (the buyer), one conditional UPDATE each."""
    async with resources.db.begin() as session:
        if name == "accept":
            await lock_listings_of(session, offer_id)
        row = await OFFERS.take(session, name, offer_id, user, now, returning=list(offers.c))
        listing = await find(session, row.listing_id)
        if name == "accept":
            await accepted(session, resources, row, listing, now)
        step = OFFER_STEPS[name]
        await notices.tell(session, step.notice, notices.item(resources.settings, listing.id,
                                 f"{step.announced()}: {listing.title}"),
                           actor_id=user.id, parties=(row.buyer_id, row.seller_id))
    return to_view(row)


async def accepted(session: AsyncSession, resources: Resources, offer: Row, listing: Row,
                   now: datetime) -> None:
    """The listing (and the item given in exchange) are taken, every other pending offer on
    them is declined, and the transaction begins, all in the acceptance's transaction."""
    await take_listing(session, listing.id, offer.seller_id, now,
                       f"The listing is {listing.status}; it can no longer be given to this "
                       "offer.")
    taken = [listing.id]
    if offer.swap_listing_id:
        await take_listing(session, offer.swap_listing_id, offer.buyer_id, now,
                           "The item offered in exchange is no longer available.")
        taken.append(offer.swap_listing_id)
    declined = await decline_pending(session, taken, now, by=offer.seller_id, keep=offer.id)
    await tell_declined(session, resources, declined, listing.title, offer.seller_id)
    row = await transactions.begin(session, listing, offer.buyer_id, offer.amount or 0, now,
                                   offer_id=offer.id)
    await transactions.tell_begun(session, resources, row, listing.title, offer.seller_id)


async def offers_on(resources: Resources, user: Principal, listing_id: str) -> list[OfferView]:
    """The seller and administrators see every offer on a listing; anyone else their own."""
    async with resources.reads() as session:
        listing = await find(session, listing_id)
        if listing is None:
            raise NotFound("No listing with this id.", error="listing not found")
        query = select(offers).where(offers.c.listing_id == listing_id)
        if listing.seller_id != user.id and not user.is_admin:
            query = query.where(offers.c.buyer_id == user.id)
        rows = await session.execute(query.order_by(offers.c.created_at.desc()).limit(200))
    return [to_view(row) for row in rows]


async def expire_due(resources: Resources, now: datetime, *, batch_size: int = 500) -> int:
    """Expire the pending offers past their time (the sweep); returns how many."""
    step = OFFER_STEPS["expire"]
    expired = 0
    while True:
        async with resources.db.begin() as session:
            due = (select(offers.c.id).where(offers.c.status == "pending",
                                             offers.c.expires_at <= now)
                   .limit(batch_size).with_for_update(skip_locked=True))
            rows = (await session.execute(
                update(offers).where(offers.c.id.in_(due.scalar_subquery()),
                                     offers.c.status == "pending", offers.c.expires_at <= now)
                .values(**OFFERS.values(step, now, None)).returning(*offers.c))).all()
            for row in rows:
                await notices.tell(session, "Update", notices.item(
                    resources.settings, row.listing_id, step.announced()),
                    actor_id=None, parties=(row.buyer_id,))
        expired += len(rows)
        if len(rows) < batch_size:
            return expired
