"""Review use cases: the owner of a completed stay reviews it once; anyone reads them."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from panamia.db.postgres import violation
from panamia.errors import Conflict, DomainError, Forbidden, NotFound
from panamia.identity.dependencies import Principal
from panamia.notifications import service as notifications
from panamia.notifications.schemas import ActivityObject, Create
from panamia.pets.listings import service as listings
from panamia.pets.reviews import queries
from panamia.pets.reviews.models import Review
from panamia.pets.reviews.schemas import ReviewCreate, ReviewPage, ReviewView, SitterReviews
from panamia.resources import Resources

MAX_PAGE_SIZE = 100
REVIEWABLE = "completed"


def booking_not_found() -> NotFound:
    return NotFound("You have no such booking.", error="booking not found")


def translated(exc: IntegrityError) -> DomainError | None:
    """The database decides "once" (a unique constraint) and "the owner" (a foreign key to the
    booking's id and owner); say what it decided."""
    refused = violation(exc)
    if refused == ("23505", "uq_reviews_booking_id"):
        return Conflict("This stay has been reviewed already; a stay gets one review.",
                        error="already reviewed")
    if refused in (("23503", "fk_reviews_booking_owner"),
                   ("23503", "fk_reviews_listing_id_listings")):
        return booking_not_found()
    return None


async def review_booking(
    resources: Resources, user: Principal, booking_id: str, body: ReviewCreate
) -> ReviewView:
    """Its owner only, once the stay is completed. The sitter is notified, through the outbox,
    in the same transaction: no review, no notification."""
    try:
        async with resources.db.begin() as db:
            booking = await queries.booking(db, booking_id)
            # Strangers learn nothing about the booking; its sitter and admins are told why.
            if booking is None or (user.id not in (booking.owner_id, booking.sitter_id)
                                   and not user.is_admin):
                raise booking_not_found()
            if booking.owner_id != user.id:
                raise Forbidden("Only the booking's owner may review the stay.")
            if booking.status != REVIEWABLE:
                raise Conflict(f"Only a completed stay can be reviewed; this booking is "
                               f"{booking.status}.", error="booking not completed")
            review = await queries.insert_review(
                db, booking_id=booking_id, author_id=user.id, listing_id=booking.listing_id,
                rating=body.rating, text=body.text,
            )
            await notifications.notify(db, Create(
                actor_id=user.id, target_id=booking.sitter_id,
                object=ActivityObject(
                    type="Review", id=review.id, summary=f"Rated {body.rating}/5",
                    url=f"{resources.settings.pets_url}/listings/{booking.listing_id}/reviews",
                ),
            ))
    except IntegrityError as exc:
        if (error := translated(exc)) is None:
            raise
        raise error from exc
    return ReviewView(
        id=review.id, listing_id=booking.listing_id, rating=body.rating, text=body.text,
        author_screenname=user.screenname, created_at=review.created_at,
    )


async def list_reviews(
    resources: Resources, listing_id: str, *, page: int, page_size: int
) -> ReviewPage:
    async with resources.reads() as db:
        summary = await queries.summary(db, listing_id)
        if summary is None:
            raise listings.not_found()
        rows = await queries.page(db, listing_id, offset=(page - 1) * page_size,
                                  limit=page_size + 1)
    return ReviewPage(
        listing_id=listing_id,
        average_rating=float(summary.average) if summary.average is not None else None,
        count=summary.count,
        items=[ReviewView.model_validate(row._mapping) for row in rows[:page_size]],
        page=page, page_size=page_size, has_more=len(rows) > page_size,
    )


async def of_sitter(resources: Resources, sitter_id: str, *, latest: int) -> SitterReviews:
    async with resources.reads() as db:
        summary, rows = await queries.of_sitter(db, sitter_id, limit=latest)
    return SitterReviews(
        sitter_id=sitter_id, count=summary.count,
        average_rating=float(summary.average) if summary.average is not None else None,
        latest=[ReviewView.model_validate(row._mapping) for row in rows],
    )


async def reviewed(resources: Resources, booking_ids: set[str]) -> set[str]:
    """Which of these bookings have their review already (a page of bookings asks once)."""
    if not booking_ids:
        return set()
    async with resources.reads() as db:
        found = await db.execute(
            select(Review.booking_id).where(Review.booking_id.in_(booking_ids)))
    return set(found.scalars())
