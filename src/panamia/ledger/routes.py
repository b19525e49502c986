"""Money over HTTP, in the main app: administrators record manual deposits and payouts;
a member reads their own money."""

from fastapi import APIRouter, Response

from panamia.errors import Conflict, Forbidden, Invalid, NotFound, responses
from panamia.identity import csrf
from panamia.identity.dependencies import SIGNED_IN, AdminUser, CurrentUser
from panamia.ledger import service
from panamia.ledger.schemas import ManualMoney, MyMoney, Recorded
from panamia.resources import ResourcesDep

router = APIRouter(prefix="/api/ledger", tags=["ledger"])

RECORDED_BEFORE = {200: {"model": Recorded,
                         "description": "Recorded before with this reference; nothing changed"}}
RECORDING = RECORDED_BEFORE | SIGNED_IN | csrf.CHECKED | responses(
    (Forbidden, "Administrators only; or the CSRF token is missing or wrong"),
    (NotFound, "No member has this email address"),
    (Conflict, "The reference was recorded with another member, amount or currency; or, for "
               "a payout, the member does not have that much available"),
    (Invalid, "A bad email address, amount, currency or reference"),
)


async def _record(direction: service.Direction, body: ManualMoney, admin, resources,
                  response: Response) -> Recorded:
    recorded = await service.record_manual(resources, direction, body, admin.id)
    response.status_code = 201 if recorded.posted else 200
    return recorded


@router.post("/deposits", response_model=Recorded, status_code=201, responses=RECORDING,
             summary="Record money a member handed over")
async def record_deposit(body: ManualMoney, admin: AdminUser, resources: ResourcesDep,
                         response: Response) -> Recorded:
    """Money received from a member in cash or by bank transfer becomes theirs to spend.
    `reference` (the receipt or bank reference) makes it idempotent: recording it again
    answers 200 with `posted: false` and changes nothing."""
    return await _record("deposit", body, admin, resources, response)


@router.post("/payouts", response_model=Recorded, status_code=201, responses=RECORDING,
             summary="Record money paid out to a member")
async def record_payout(body: ManualMoney, admin: AdminUser, resources: ResourcesDep,
                        response: Response) -> Recorded:
    """Money paid to a member in cash or by bank transfer leaves their available money;
    idempotent by `reference`, as deposits are."""
    return await _record("payout", body, admin, resources, response)


@router.get("/me", response_model=MyMoney, responses=SIGNED_IN, summary="Your money")
async def my_money(user: CurrentUser, resources: ResourcesDep) -> MyMoney:
    """Per currency, what you may spend (`available`) and what is held for a purchase, a bid
    or a rental deposit until it is released or returned (`held`); each hold; and your
    latest postings, newest first."""
    return await service.my_money(resources, user.id)
