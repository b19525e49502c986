"""Demo rentals for `panamia dev`: five items of demo members, rentals in several states,
and the renters given money through the manual provider. Run by `panamia.demo.seed` (the
declaration names this module) after the demo people exist.

Ids and deposit references are fixed (`demo-item-drill`, `demo-rental-2`,
`demo-rentals-marco`), so a second run adds only what is missing. Each rental is written as a
request row, and only when it is new are its steps taken through the service, so that the
money moves through the ledger exactly as it would for members, under the same event keys.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from panamia import demo
from panamia.ledger.providers import manual
from panamia.rentals import pricing, service
from panamia.rentals.models import Rental, RentalItem
from panamia.rentals.schemas import ClaimBody, ItemCreate
from panamia.resources import Resources

MIAMI = "America/New_York"
ITEMS = {
    "drill": ("ana", {"title": "Cordless drill with two batteries", "category": "tools",
                      "price": "4.00", "price_unit": "hour", "min_units": 2,
                      "buffer_minutes": 30, "deposit": "40.00",
                      "description": "Bits included. Pick up at the ventanita."}),
    "camera": ("lucia", {"title": "Mirrorless camera and a 35 mm lens", "category": "cameras",
                         "price": "35.00", "price_unit": "day", "buffer_minutes": 120,
                         "deposit": "200.00", "description": "Two charged batteries, one SD "
                         "card. Please bring it back in its bag."}),
    "speaker": ("marco", {"title": "Party speaker with a microphone", "category": "party",
                          "price": "30.00", "price_unit": "day", "buffer_minutes": 60,
                          "deposit": "80.00"}),
    "bike": ("devon", {"title": "Cargo bike", "category": "bikes", "price": "6.00",
                       "price_unit": "hour", "min_units": 2, "buffer_minutes": 45,
                       "deposit": "100.00", "description": "Carries two kids or a week of "
                       "groceries. Helmet and lock included."}),
    "studio": ("maria", {"title": "The back room of the bookshop, by the hour",
                         "category": "rooms", "price": "15.00", "price_unit": "hour",
                         "buffer_minutes": 30, "deposit": "0.00",
                         "description": "Twelve chairs, a table and a whiteboard."}),
}
RENTERS = ("marco", "lucia", "jean", "sofia", "ana")
DEPOSIT = Decimal("400.00")


@dataclass(frozen=True)
class DemoRental:
    number: int
    renter: str
    item: str
    days_ahead: int
    hours: int
    steps: tuple[str, ...] = ()
    note: str | None = None


RENTALS = (
    DemoRental(1, "marco", "drill", 3, 4, note="For the shelves in the studio."),
    DemoRental(2, "sofia", "camera", 5, 48, ("confirm",)),
    DemoRental(3, "jean", "speaker", 2, 24, ("confirm", "pick_up")),
    DemoRental(4, "lucia", "bike", 1, 3, ("confirm", "pick_up", "return")),
    DemoRental(5, "ana", "camera", 12, 24, ("confirm", "pick_up", "claim")),
    DemoRental(6, "jean", "studio", 4, 2, ("decline",)),
)
CLAIM = ClaimBody(amount=Decimal("45.00"), reason="The lens cap is lost and the strap is torn.")


def item_id(key: str) -> str:
    return f"demo-item-{key}"


async def add_items(resources: Resources) -> None:
    rows = [{"id": item_id(key), "owner_id": demo.user_id(owner),
             **ItemCreate.model_validate(spec | {"timezone": MIAMI}).model_dump()}
            for key, (owner, spec) in ITEMS.items()]
    async with resources.db.begin() as db:
        await db.execute(pg_insert(RentalItem).values(rows).on_conflict_do_nothing())


async def give_money(resources: Resources) -> None:
    async with resources.db.begin() as db:
        for key in RENTERS:
            await manual.deposit(db, user_id=demo.user_id(key), amount=DEPOSIT, currency="USD",
                                 reference=f"demo-rentals-{key}", recorded_by=None)


def request_row(spec: DemoRental, today) -> dict:
    owner, item = ITEMS[spec.item]
    zone = ZoneInfo(MIAMI)
    start = datetime.combine(today + timedelta(days=spec.days_ahead), time(10), tzinfo=zone)
    quote = pricing.quote(start, start + timedelta(hours=spec.hours),
                          price=Decimal(item["price"]), unit=item["price_unit"],
                          min_units=item.get("min_units", 1), zone=zone)
    return {"id": f"demo-rental-{spec.number}", "item_id": item_id(spec.item),
            "owner_id": demo.user_id(owner), "renter_id": demo.user_id(spec.renter),
            "starts_at": quote.starts_at, "ends_at": quote.ends_at,
            "buffer_minutes": item["buffer_minutes"],
            "blocked_until": quote.ends_at + timedelta(minutes=item["buffer_minutes"]),
            "fee": quote.fee, "deposit": Decimal(item["deposit"]),
            "hourly_rate": quote.hourly_rate, "currency": "USD", "note": spec.note}


async def add_rental(resources: Resources, spec: DemoRental, today) -> None:
    """The request and, only if it is new, its steps through the service."""
    async with resources.db.begin() as db:
        added = (await db.execute(pg_insert(Rental).values(request_row(spec, today))
                                  .on_conflict_do_nothing().returning(Rental.id))).first()
    if added is None:
        return  # there already, or its time was taken meanwhile: leave it
    people = {p.key: p for p in demo.PEOPLE}
    owner = demo.acting_as(people[ITEMS[spec.item][0]])
    for step in spec.steps:
        await service.transition(resources, owner, added.id, step,
                                 CLAIM if step == "claim" else None)


async def seed(resources: Resources) -> None:
    today = datetime.now(ZoneInfo(MIAMI)).date()
    await add_items(resources)
    await give_money(resources)
    for spec in RENTALS:
        await add_rental(resources, spec, today)


async def reset(resources: Resources) -> None:
    """Before `demo reset` deletes the demo people: their rentals, then their items. The
    ledger keeps its entries (they are immutable)."""
    ids = [demo.user_id(p.key) for p in demo.PEOPLE]
    async with resources.db.begin() as db:
        await db.execute(delete(Rental).where(
            or_(Rental.owner_id.in_(ids), Rental.renter_id.in_(ids))))
        await db.execute(delete(RentalItem).where(RentalItem.owner_id.in_(ids)))
