"""Demo pet sitting for `panamia dev`: four sitters in four cities, bookings in every status,
reviews, blackouts, and the notifications each step sends. Run by `panamia.demo.seed` (the
sidecar's declaration names this module) after the demo people exist.

Ids are fixed (`demo-listing-sofia`, `demo-booking-3`), so a second run adds only what is
missing. Listings and bookings are written as rows, past the services' rules (a completed
stay has to be in the past, which no request may be), each with the outbox notice its
step would have sent, in the same transaction and only when the row is new. Reviews go
through the reviews service.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from panamia import demo
from panamia.errors import Conflict
from panamia.pets.bookings import notices
from panamia.pets.bookings import queries as booking_queries
from panamia.pets.bookings import service as bookings_service
from panamia.pets.models import Booking
from panamia.pets.bookings.states import TRANSITIONS
from panamia.pets.listings.models import Listing, ListingBlackout
from panamia.pets.listings.schemas import ListingCreate
from panamia.pets.reviews import service as reviews_service
from panamia.pets.reviews.schemas import ReviewCreate
from panamia.resources import Resources

LISTINGS = {
    "sofia": {"title": "Beach walks and a quiet condo", "city": "Miami Beach", "zip": "33139",
              "price_per_day": "55.00", "services": ["boarding", "dog_walking"],
              "species": ["dog"], "max_pets": 2,
              "description": "Two walks on the sand a day, sunrise and sunset.\nNo cats, sorry."},
    "devon": {"title": "A big yard behind the bike shop", "city": "Miami", "zip": "33142",
              "price_per_day": "40.00", "services": ["boarding", "house_sitting"],
              "species": ["dog", "cat"], "max_pets": 3,
              "description": "Fenced yard, shade, and someone home all day."},
    "maria": {"title": "Cats among the books", "city": "Coral Gables", "zip": "33134",
              "price_per_day": "30.00", "services": ["drop_in_visits", "house_sitting"],
              "species": ["cat", "bird", "rabbit"], "max_pets": 4,
              "description": "Quiet company and story time. Birds welcome."},
    "tomas": {"title": "Hialeah drop-ins", "city": "Hialeah", "zip": "33010",
              "price_per_day": "25.00", "services": ["drop_in_visits"],
              "species": ["dog", "cat", "small_animal"], "max_pets": 2,
              "description": "Feeding, water, a play and a photo for you, twice a day."},
}


@dataclass(frozen=True)
class DemoBooking:
    number: int
    owner: str
    sitter: str
    starts_in: int  # days from today
    nights: int
    steps: tuple[str, ...] = ()  # what happened after the request, in order
    pet: tuple[str, str] = ("Coco", "dog")
    note: str | None = None
    requested_days_ago: int = 0


BOOKINGS = (
    DemoBooking(1, "ana", "devon", 10, 3, pet=("Pastelito", "cat"),
                note="She hides under the bed the first day; that is normal."),
    DemoBooking(2, "marco", "sofia", 5, 3, ("confirm",), ("Timba", "dog"), requested_days_ago=1),
    DemoBooking(3, "lucia", "devon", -20, 4, ("confirm", "complete"), ("Frida", "dog"),
                requested_days_ago=30),
    DemoBooking(4, "jean", "sofia", -40, 3, ("confirm", "complete"), ("Bouki", "dog"),
                requested_days_ago=45),
    DemoBooking(5, "ana", "maria", -15, 3, ("confirm", "complete"), ("Pastelito", "cat"),
                requested_days_ago=20),
    DemoBooking(6, "jean", "devon", 20, 2, ("decline",), ("Bouki", "dog")),
    DemoBooking(7, "marco", "maria", 7, 2, ("cancel",), ("Clave", "bird")),
    DemoBooking(8, "lucia", "tomas", 3, 3, ("expire",), ("Kahlo", "cat"), requested_days_ago=3),
    DemoBooking(9, "jean", "tomas", -5, 3, ("confirm",), ("Ti Zwazo", "small_animal"),
                requested_days_ago=10),
    DemoBooking(10, "lucia", "sofia", 14, 2, pet=("Frida", "dog"), note="Two walks, please."),
)
REVIEWS = {3: (5, "Frida came home tired and happy. Devon sent photos every day."),
           4: (4, "Great walks on the beach; Bouki loved Sofía.")}
BLACKOUTS = {"sofia": (25, 30), "devon": (2, 4)}


def listing_id(sitter: str) -> str:
    return f"demo-listing-{sitter}"


async def add_listings(resources: Resources) -> None:
    rows = [{"id": listing_id(sitter), "sitter_id": demo.user_id(sitter),
             **ListingCreate.model_validate(spec).model_dump()}
            for sitter, spec in LISTINGS.items()]
    async with resources.db.begin() as db:
        await db.execute(pg_insert(Listing).values(rows).on_conflict_do_nothing())


async def add_blackouts(resources: Resources, today: date) -> None:
    rows = [{"id": f"demo-blackout-{sitter}", "listing_id": listing_id(sitter),
             "start_date": today + timedelta(first), "end_date": today + timedelta(last)}
            for sitter, (first, last) in BLACKOUTS.items()]
    async with resources.db.begin() as db:
        await db.execute(pg_insert(ListingBlackout).values(rows).on_conflict_do_nothing())


def booking_row(spec: DemoBooking, today: date, now: datetime) -> dict:
    start = today + timedelta(spec.starts_in)
    price = Decimal(LISTINGS[spec.sitter]["price_per_day"])
    requested = now - timedelta(days=spec.requested_days_ago)
    row = {
        "id": f"demo-booking-{spec.number}", "listing_id": listing_id(spec.sitter),
        "owner_id": demo.user_id(spec.owner), "sitter_id": demo.user_id(spec.sitter),
        "start_date": start, "end_date": start + timedelta(spec.nights),
        "status": TRANSITIONS[spec.steps[-1]].target.value if spec.steps else "pending",
        "total_price": spec.nights * price, "currency": "USD",
        "pets": [{"name": spec.pet[0], "species": spec.pet[1]}], "note": spec.note,
        "created_at": requested, "updated_at": requested,
    }
    for number, name in enumerate(spec.steps, start=1):
        step = TRANSITIONS[name]
        row[step.stamp] = row["updated_at"] = requested + timedelta(hours=number)
        if name == "cancel":
            row["cancelled_by"] = row["owner_id"]
    return row


async def add_booking(resources: Resources, spec: DemoBooking, today: date, now: datetime):
    """The row and, only if it is new, the notices its request and steps sent."""
    title = LISTINGS[spec.sitter]["title"]
    async with resources.db.begin() as db:
        row = (await db.execute(
            pg_insert(Booking).values(booking_row(spec, today, now)).on_conflict_do_nothing()
            .returning(*booking_queries.VIEW)
        )).first()
        if row is None:
            return  # there already, or its nights were taken meanwhile: leave it
        booking = bookings_service.view(row)
        await notices.requested(db, booking, title)
        for name in spec.steps:
            actor = {"cancel": booking.owner_id, "expire": None}.get(name, booking.sitter_id)
            await notices.transitioned(db, TRANSITIONS[name], booking, title, actor)


async def add_reviews(resources: Resources) -> None:
    people = {p.key: p for p in demo.PEOPLE}
    by_number = {b.number: b for b in BOOKINGS}
    for number, (rating, text) in REVIEWS.items():
        author = demo.acting_as(people[by_number[number].owner])
        try:
            await reviews_service.review_booking(resources, author, f"demo-booking-{number}",
                                                 ReviewCreate(rating=rating, text=text))
        except Conflict:
            pass  # reviewed by an earlier run


async def seed(resources: Resources) -> None:
    now = datetime.now(UTC)
    today = bookings_service.local_today("America/New_York", now)
    await add_listings(resources)
    await add_blackouts(resources, today)
    for spec in BOOKINGS:
        await add_booking(resources, spec, today, now)
    await add_reviews(resources)


async def reset(resources: Resources) -> None:
    """Before `demo reset` deletes the demo people: their bookings first (the database refuses
    to delete a user who still has active ones), then their listings with all that hangs on
    them."""
    ids = [demo.user_id(p.key) for p in demo.PEOPLE]
    async with resources.db.begin() as db:
        await db.execute(delete(Booking).where(
            or_(Booking.owner_id.in_(ids), Booking.sitter_id.in_(ids))))
        await db.execute(delete(Listing).where(Listing.sitter_id.in_(ids)))
