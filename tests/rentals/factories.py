"""Items listed and rentals asked for the way members do it, through the services; members
given money through the `manual` provider."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from panamia.ledger import accounts, journal
from panamia.ledger.providers import manual
from panamia.rentals import items, service
from panamia.rentals.schemas import ItemCreate, ItemView, RentalRequest, RentalView
from panamia.resources import Resources
from tests.identity.factories import create_user
from tests.profiles.factories import principal

NEW_YORK = ZoneInfo("America/New_York")
# A local morning a month ahead: always in the future, never a change of the clocks.
MORNING = datetime.combine(datetime.now(NEW_YORK).date() + timedelta(days=30), time(10, 0))
STEPS = {"confirmed": ("confirm",), "declined": ("decline",), "cancelled": ("cancel",),
         "picked_up": ("confirm", "pick_up"), "returned": ("confirm", "pick_up", "return")}


async def create_item(resources: Resources, *, owner_id: str | None = None,
                      **overrides) -> ItemView:
    """An hourly drill by `owner_id` (a new member when None); `overrides` by Python name."""
    owner_id = owner_id or await create_user(resources)
    fields = {"title": "Cordless drill", "description": "Two batteries.", "category": "tools",
              "price": Decimal("5.00"), "price_unit": "hour", "min_units": 1,
              "buffer_minutes": 60, "deposit": Decimal("40.00"),
              "timezone": "America/New_York"} | overrides
    return await items.create_item(resources, principal(owner_id), ItemCreate(**fields))


async def fund(resources: Resources, user_id: str, amount: str = "500.00") -> None:
    async with resources.db.begin() as db:
        await manual.deposit(db, user_id=user_id, amount=Decimal(amount), currency="USD",
                             reference=f"test-{user_id}-{amount}", recorded_by=None)


async def balance(resources: Resources, account) -> Decimal:
    async with resources.db.begin() as db:
        return await journal.balance(db, account, "USD")


async def available(resources: Resources, user_id: str) -> Decimal:
    return await balance(resources, accounts.available(user_id))


def body(item_id: str, start: datetime = MORNING, hours: float = 3, **fields) -> dict:
    """A JSON body for POST /rentals, with local date-times."""
    end = fields.pop("end", None) or start + timedelta(hours=hours)
    return {"itemId": item_id, "startsAt": start.isoformat(), "endsAt": end.isoformat()} | fields


async def create_rental(resources: Resources, *, item: ItemView | None = None,
                        renter_id: str | None = None, start: datetime = MORNING,
                        hours: float = 3, status: str = "requested", **fields) -> RentalView:
    """A request by `renter_id` (a new, funded member when None), then taken by its owner to
    `status`."""
    item = item or await create_item(resources)
    if renter_id is None:
        renter_id = await create_user(resources)
        await fund(resources, renter_id)
    request = RentalRequest.model_validate(body(item.id, start, hours, **fields))
    answer = await service.request_rental(resources, principal(renter_id), request)
    assert answer.status == 201, answer.body
    rental = RentalView.model_validate(answer.body)
    for step in STEPS.get(status, ()):
        actor = renter_id if step == "cancel" else item.owner_id
        rental = await service.transition(resources, principal(actor), rental.id, step)
    return rental
