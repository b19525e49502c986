"""Rental use cases. Each runs in one transaction, with its ledger postings and its notice
for the other party in that same transaction.

Two rentals of one item closer than its turnaround are the database's to refuse (the
exclusion constraint `ex_rentals_no_overlap` over `[starts_at, blocked_until)`): a request
is inserted, never checked first, and what the constraint turns away becomes 409.
Transitions are one conditional UPDATE each, taken through the declaration in `states`.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.db.postgres import new_id, violation
from panamia.errors import Invalid, NotFound
from panamia.identity.dependencies import Principal
from panamia.rentals import items, money, notices, pricing, queries
from panamia.rentals.schemas import (
    ClaimBody,
    RentalListItem,
    RentalPage,
    RentalRequest,
    RentalView,
    SettleBody,
)
from panamia.rentals.states import RENTALS, TRANSITIONS, Status
from panamia.resources import Resources
from panamia.sidecar import idempotency, reservations

TAKEN = ("Another rental, or the turnaround after one, holds some of this time; choose "
         "other times.")
IDEMPOTENCY_SCOPE = "rentals.rentals"
LONGEST = timedelta(days=90)
FURTHEST_AHEAD = timedelta(days=366)
MAX_PAGE_SIZE = 100
FOREIGN_KEY_VIOLATION = "23503"


def view(row: Row, model: type[RentalView] = RentalView, **item) -> RentalView:
    """The rental; `item` gives the item's `timezone` to a row read without it."""
    return model.model_validate(row._asdict() | item)


def check_times(quote: pricing.Quote, now: datetime) -> None:
    if quote.starts_at < now:
        raise Invalid("startsAt is in the past.", fields=["startsAt"])
    if quote.starts_at > now + FURTHEST_AHEAD:
        raise Invalid("startsAt is more than a year ahead.", fields=["startsAt"])
    if quote.ends_at - quote.starts_at > LONGEST:
        raise Invalid(f"A rental lasts at most {LONGEST.days} days.", fields=["endsAt"])


async def _item_to_rent(session: AsyncSession, user: Principal, item_id: str) -> Row:
    item = await queries.find_item(session, item_id)
    if item is None:
        raise Invalid("No item has this id.", fields=["itemId"])
    if item.owner_id == user.id:
        raise Invalid("You cannot rent your own item.", fields=["itemId"])
    if not item.available:
        raise Invalid("This item is not taking rentals.", fields=["itemId"])
    return item


async def _insert(session: AsyncSession, user: Principal, body: RentalRequest, item: Row,
                  quote: pricing.Quote) -> Row:
    values: dict[str, Any] = {
        "id": new_id(), "item_id": item.id, "owner_id": item.owner_id, "renter_id": user.id,
        "starts_at": quote.starts_at, "ends_at": quote.ends_at,
        "buffer_minutes": item.buffer_minutes,
        "blocked_until": quote.ends_at + timedelta(minutes=item.buffer_minutes),
        "status": Status.REQUESTED.value, "fee": quote.fee, "deposit": item.deposit,
        "hourly_rate": quote.hourly_rate, "currency": item.currency, "note": body.note,
    }
    try:
        row = await queries.insert_rental(session, values)
    except IntegrityError as exc:
        if violation(exc)[0] == FOREIGN_KEY_VIOLATION:  # the item was deleted meanwhile
            raise Invalid("No item has this id.", fields=["itemId"]) from None
        raise
    if row is None:
        raise reservations.refused(queries.OVERLAP, TAKEN)
    return row


async def request_rental(
    resources: Resources, user: Principal, body: RentalRequest, key: str | None = None,
    now: datetime | None = None,
) -> idempotency.Answer:
    """A request for the item's time; 201, or 409 when it (or its turnaround) is taken.
    With an `Idempotency-Key`, the 201 or 409 is kept with the key."""
    now = now or datetime.now(UTC)
    claim = None if key is None else idempotency.Key(
        user.id, IDEMPOTENCY_SCOPE, key,
        idempotency.fingerprint("POST /rentals", body.model_dump(mode="json")))
    async with resources.db.begin() as session:
        if claim and (stored := await idempotency.claim(session, claim, now)):
            return stored
        item = await _item_to_rent(session, user, body.item_id)
        quote = pricing.quote(body.starts_at, body.ends_at, price=item.price,
                              unit=item.price_unit, min_units=item.min_units,
                              zone=items.zone_of(item))
        check_times(quote, now)

        async def attempt() -> idempotency.Answer:
            rental = view(await _insert(session, user, body, item, quote),
                          timezone=item.timezone)
            await notices.requested(session, resources.settings, rental, item.title)
            return idempotency.Answer(201, rental.model_dump(mode="json", by_alias=True))

        return await idempotency.kept(session, claim, attempt)


async def _amend(session: AsyncSession, rental_id: str, **values) -> Row:
    statement = (update(queries.rentals).where(queries.rentals.c.id == rental_id)
                 .values(**values).returning(*queries.VIEW))
    return (await session.execute(statement)).one()


async def _money(session: AsyncSession, name: str, row: Row, now: datetime,
                 details: ClaimBody | SettleBody | None) -> Row:
    """The step's postings; the row as they leave it."""
    if name == "confirm":
        await money.hold(session, row)
    elif name == "cancel" and row.confirmed_at is not None:
        await money.refund(session, row)
    elif name in ("return", "claim"):
        late = await money.late(session, row, now)
        changes: dict[str, Any] = {"late_fee": late.fee, "late_from_deposit": late.from_deposit}
        if name == "return":
            await money.release(session, row, late)
        else:
            held = row.deposit - late.from_deposit
            if details.amount > held:
                raise Invalid(f"A claim keeps at most the deposit still held: {held} "
                              f"{row.currency}.", fields=["amount"])
            await money.pay_out_keeping_deposit(session, row, late)
            changes |= {"claim_amount": details.amount, "claim_reason": details.reason,
                        "returned_at": now}
        return await _amend(session, row.id, **changes)
    elif name in ("accept_claim", "settle"):
        owner_gets = row.claim_amount if name == "accept_claim" else details.owner_gets
        if owner_gets > row.claim_amount:
            raise Invalid(f"The owner claimed {row.claim_amount} {row.currency}; settle at "
                          "most that.", fields=["ownerGets"])
        await money.settle(session, row, owner_gets)
        return await _amend(session, row.id, settled_amount=owner_gets)
    return row


async def transition(
    resources: Resources, user: Principal, rental_id: str, name: str,
    details: ClaimBody | SettleBody | None = None, now: datetime | None = None,
) -> RentalView:
    """One step of the rental (see `states`): the conditional UPDATE, the money it moves and
    the notice, in one transaction; 404, 403 or 409 (naming the status) when refused."""
    now = now or datetime.now(UTC)
    async with resources.db.begin() as session:
        row = await RENTALS.take(session, name, rental_id, user, now, returning=queries.VIEW)
        row = await _money(session, name, row, now, details)
        rental = view(row)
        await notices.transitioned(session, resources.settings, TRANSITIONS[name], rental,
                                   row.item_title, user.id)
    return rental


async def get_rental(resources: Resources, user: Principal, rental_id: str) -> RentalListItem:
    """Its two parties and admins see a rental; anyone else gets 404, as if it did not exist."""
    async with resources.reads() as session:
        row = await queries.find(session, rental_id)
    if row is None or not RENTALS.visible(user, row):
        raise NotFound("No rental with this id is visible to you.")
    return view(row, RentalListItem)


async def list_rentals(resources: Resources, user: Principal, *, role: str | None = None,
                       status: Status | None = None, page: int = 1,
                       page_size: int = 50) -> RentalPage:
    async with resources.reads() as session:
        rows = await queries.page(session, user.id, role=role,
                                  status=status.value if status else None,
                                  offset=(page - 1) * page_size, limit=page_size + 1)
    return RentalPage(items=[view(r, RentalListItem) for r in rows[:page_size]], page=page,
                      has_more=len(rows) > page_size)

