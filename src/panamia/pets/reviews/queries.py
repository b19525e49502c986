"""Review statements. Each takes a session and never commits."""

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.identity.models import User
from panamia.pets.models import Booking
from panamia.pets.listings.models import Listing
from panamia.pets.reviews.models import Review


async def booking(session: AsyncSession, booking_id: str) -> Row | None:
    return (await session.execute(
        select(Booking.owner_id, Booking.sitter_id, Booking.listing_id, Booking.status)
        .where(Booking.id == booking_id)
    )).first()


async def insert_review(
    session: AsyncSession, *, booking_id: str, author_id: str, listing_id: str, rating: int,
    text: str | None,
) -> Row:
    return (await session.execute(
        insert(Review).values(booking_id=booking_id, author_id=author_id, listing_id=listing_id,
                              rating=rating, text=text)
        .returning(Review.id, Review.created_at)
    )).one()


async def summary(session: AsyncSession, listing_id: str) -> Row | None:
    """`(count, average)` over the listing's reviews; None if there is no such listing."""
    return (await session.execute(
        select(func.count(Review.id).label("count"),
               func.round(func.avg(Review.rating), 2).label("average"))
        .select_from(Listing).outerjoin(Review, Review.listing_id == Listing.id)
        .where(Listing.id == listing_id).group_by(Listing.id)
    )).first()


async def page(session: AsyncSession, listing_id: str, *, offset: int, limit: int) -> list[Row]:
    """Newest first, each with its author's screenname."""
    return list(await session.execute(
        select(Review.id, Review.listing_id, Review.rating, Review.text, Review.created_at,
               User.screenname.label("author_screenname"))
        .join_from(Review, User, User.id == Review.author_id)
        .where(Review.listing_id == listing_id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .offset(offset).limit(limit)
    ))


async def of_sitter(session: AsyncSession, sitter_id: str, *, limit: int) -> tuple[Row, list[Row]]:
    """`(count, average)` over the reviews of all the sitter's listings, and the latest
    `limit` of them, each with its author's screenname."""
    mine = Review.listing_id.in_(select(Listing.id).where(Listing.sitter_id == sitter_id))
    summary = (await session.execute(
        select(func.count(Review.id).label("count"),
               func.round(func.avg(Review.rating), 2).label("average")).where(mine)
    )).one()
    latest = list(await session.execute(
        select(Review.id, Review.listing_id, Review.rating, Review.text, Review.created_at,
               User.screenname.label("author_screenname"))
        .join_from(Review, User, User.id == Review.author_id).where(mine)
        .order_by(Review.created_at.desc(), Review.id.desc()).limit(limit)
    ))
    return summary, latest
