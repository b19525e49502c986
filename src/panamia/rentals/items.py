"""Items: list one, read one, browse them, and see when one is taken."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row

from panamia.errors import Forbidden, NotFound
from panamia.identity.dependencies import Principal
from panamia.rentals import pricing, queries
from panamia.rentals.schemas import (
    Availability,
    ItemCreate,
    ItemPage,
    ItemPatch,
    ItemView,
    TakenRange,
)
from panamia.resources import Resources

PAGE_SIZE = 24
DEFAULT_WINDOW = timedelta(weeks=6)
LONGEST_WINDOW = timedelta(days=93)


def view(row: Row) -> ItemView:
    return ItemView.model_validate(row._asdict())


async def create_item(resources: Resources, user: Principal, body: ItemCreate) -> ItemView:
    async with resources.db.begin() as session:
        row = await queries.insert_item(session, {"owner_id": user.id, **body.model_dump()})
    return view(row)


async def change_item(resources: Resources, user: Principal, item_id: str,
                      patch: ItemPatch) -> ItemView:
    """Its owner (or an admin) opens or closes the item to new requests."""
    async with resources.db.begin() as session:
        item = await find_item(session, item_id, lock=True)
        if item.owner_id != user.id and not user.is_admin:
            raise Forbidden("Only the item's owner may change it.")
        return view(await queries.update_item(session, item_id, patch.model_dump()))


async def find_item(session, item_id: str, *, lock: bool = False) -> Row:
    row = await queries.find_item(session, item_id, lock=lock)
    if row is None:
        raise NotFound("No item has this id.")
    return row


async def get_item(resources: Resources, item_id: str) -> ItemView:
    async with resources.reads() as session:
        return view(await find_item(session, item_id))


async def list_items(resources: Resources, *, category: str | None = None,
                     owner_id: str | None = None, page: int = 1,
                     page_size: int = PAGE_SIZE) -> ItemPage:
    """Items taking rentals, newest first; an owner's own items, hidden ones too."""
    async with resources.reads() as session:
        rows = await queries.page_items(session, category=category, owner_id=owner_id,
                                        offset=(page - 1) * page_size, limit=page_size + 1)
    return ItemPage(items=[view(r) for r in rows[:page_size]], page=page,
                    has_more=len(rows) > page_size)


async def availability(resources: Resources, item_id: str, start: datetime | None = None,
                       end: datetime | None = None) -> Availability:
    """The times the item is taken in `[start, end)` (default: the coming six weeks; local
    times in the item's zone), each rental followed by its turnaround; nothing about who
    rents it."""
    async with resources.reads() as session:
        item = await find_item(session, item_id)
        start = pricing.to_utc(start, zone_of(item), "from") if start else datetime.now(UTC)
        end = pricing.to_utc(end, zone_of(item), "to") if end else start + DEFAULT_WINDOW
        rows = await queries.taken(session, item_id, start, min(end, start + LONGEST_WINDOW))
    taken = []
    for row in rows:
        taken.append(TakenRange(starts_at=row.starts_at, ends_at=row.ends_at, kind="rented"))
        if row.blocked_until > row.ends_at:
            taken.append(TakenRange(starts_at=row.ends_at, ends_at=row.blocked_until,
                                    kind="turnaround"))
    return Availability(item_id=item_id, timezone=item.timezone, taken=taken)


def zone_of(item) -> ZoneInfo:
    return ZoneInfo(item.timezone)
