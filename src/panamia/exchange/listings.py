"""Listings: put one up, find them, read one, withdraw one. Each use case one transaction."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.errors import Conflict, Forbidden, NotFound
from panamia.exchange import notices
from panamia.exchange.idempotent import create
from panamia.exchange.models import ExchangeListing, ExchangeOffer
from panamia.exchange.schemas import ListingCreate, ListingPage, ListingView
from panamia.exchange.states import OFFER_STEPS, OFFERS
from panamia.identity.dependencies import Principal
from panamia.identity.models import User
from panamia.resources import Resources
from panamia.sidecar import idempotency

MAX_PAGE_SIZE = 100
listings, offers, users = ExchangeListing.__table__, ExchangeOffer.__table__, User.__table__
VIEW = select(*listings.c, users.c.screenname.label("seller_screenname"),
              users.c.name.label("seller_name")).join_from(
    listings, users, users.c.id == listings.c.seller_id)


def not_found() -> NotFound:
    return NotFound("No listing with this id.", error="listing not found")


def minimum_bid(row: Row) -> Decimal | None:
    if row.kind != "auction":
        return None
    return row.start_price if row.high_bid is None else row.high_bid + row.min_increment


def to_view(row: Row) -> ListingView:
    values = row._asdict()
    reserve = row.reserve_price
    values |= {
        "seller": {"id": row.seller_id, "screenname": row.seller_screenname,
                   "name": row.seller_name},
        "reserve_met": None if reserve is None else (row.high_bid or 0) >= reserve,
        "minimum_bid": minimum_bid(row),
    }
    return ListingView.model_validate(values)


async def find(session: AsyncSession, listing_id: str, *, lock: bool = False) -> Row | None:
    query = VIEW.where(listings.c.id == listing_id)
    if lock:
        query = query.with_for_update(of=listings)
    return (await session.execute(query)).first()


async def create_listing(resources: Resources, user: Principal, body: ListingCreate,
                         key: str | None) -> idempotency.Answer:
    async def make(session: AsyncSession, now: datetime) -> dict:
        listing_id = (await session.execute(
            insert(listings).values(seller_id=user.id, **body.model_dump())
            .returning(listings.c.id))).scalar_one()
        return to_view(await find(session, listing_id)).model_dump(mode="json", by_alias=True)

    return await create(resources, user, key, scope="exchange.listings",
                        operation="POST /listings", body=body.model_dump(mode="json"),
                        make=make)


async def get_listing(resources: Resources, listing_id: str) -> ListingView:
    async with resources.reads() as session:
        row = await find(session, listing_id)
    if row is None:
        raise not_found()
    return to_view(row)


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    category: str | None = None
    city: str | None = None
    words: str | None = None
    seller_id: str | None = None
    open_only: bool = True


async def search(resources: Resources, filters: Filters, *, page: int,
                 page_size: int) -> ListingPage:
    """Newest first; open ones only unless asked for a seller's own."""
    query = VIEW
    if filters.open_only:
        query = query.where(listings.c.status == "open")
    if filters.kind:
        query = query.where(listings.c.kind == filters.kind)
    if filters.category:
        query = query.where(listings.c.category == filters.category)
    if filters.city:
        query = query.where(func.lower(listings.c.city) == filters.city.lower())
    if filters.seller_id:
        query = query.where(listings.c.seller_id == filters.seller_id)
    for word in (filters.words or "").split()[:5]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(listings.c.title.ilike(pattern),
                                listings.c.description.ilike(pattern)))
    query = query.order_by(listings.c.created_at.desc(), listings.c.id.desc())
    async with resources.reads() as session:
        rows = (await session.execute(
            query.offset((page - 1) * page_size).limit(page_size + 1))).all()
    return ListingPage(items=[to_view(r) for r in rows[:page_size]], page=page,
                       page_size=page_size, has_more=len(rows) > page_size)


async def decline_pending(session: AsyncSession, listing_ids: list[str], now: datetime, *,
                          by: str, keep: str | None = None) -> list[Row]:
    """Decline every pending offer on these listings (but `keep`): they can no longer be
    accepted. Returns the declined offers."""
    query = (update(offers).where(offers.c.listing_id.in_(listing_ids),
                                  offers.c.status == "pending")
             .values(**OFFERS.values(OFFER_STEPS["decline"], now, by))
             .returning(*offers.c))
    if keep:
        query = query.where(offers.c.id != keep)
    return (await session.execute(query)).all()


async def tell_declined(session: AsyncSession, resources: Resources, declined: list[Row],
                        title: str, seller_id: str) -> None:
    for offer in declined:
        await notices.tell(session, "Reject", notices.item(
            resources.settings, offer.listing_id, f"Offer declined: {title} was taken"),
            actor_id=seller_id, parties=(offer.buyer_id, offer.seller_id))


async def withdraw_listing(resources: Resources, user: Principal, listing_id: str,
                           now: datetime) -> ListingView:
    """Its seller or an administrator takes an open listing down; an auction only before its
    first bid. Pending offers on it are declined."""
    async with resources.db.begin() as session:
        row = await find(session, listing_id, lock=True)
        if row is None:
            raise not_found()
        if row.seller_id != user.id and not user.is_admin:
            raise Forbidden("Only the listing's seller or an administrator may withdraw it.")
        if row.status != "open":
            raise Conflict(f"The listing is {row.status}; only an open listing can be withdrawn.")
        if row.bid_count:
            raise Conflict("The auction has bids; it runs until its end.")
        await session.execute(update(listings).where(listings.c.id == listing_id)
                              .values(status="closed", closed_at=now, updated_at=now))
        declined = await decline_pending(session, [listing_id], now, by=user.id)
        await tell_declined(session, resources, declined, row.title, row.seller_id)
        return to_view(await find(session, listing_id))
