"""The JSON API and the one page. A page route answers only a browser, so `/loans` is a page
for people and no JSON route at all."""

from fastapi import APIRouter, Path, Request

from lending import service
from lending.models import LOANS
from panamia import pages
from panamia.errors import Conflict, Invalid, responses
from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.resources import ResourcesDep
from panamia.sidecar.idempotency import KeyHeader
from panamia.sidecar.pages import page_router

router = APIRouter(prefix="/loans", tags=["loans"])
page = page_router()
LoanId = Path(max_length=32)


@router.post("", status_code=201, responses=SIGNED_IN | responses(Invalid, Conflict))
async def lend(body: service.LoanCreate, user: CurrentUser, resources: ResourcesDep,
               idempotency_key: KeyHeader = None):
    """Lend `thing` to the member `borrowerId`."""
    return (await service.lend(resources, user, body, idempotency_key)).response()


@router.post("/{loan_id}/return", responses=SIGNED_IN | responses(*LOANS.responses("return")))
async def take_back(user: CurrentUser, resources: ResourcesDep, loan_id: str = LoanId) -> dict:
    """The lender has the thing back."""
    return await service.take_back(resources, user, loan_id)


@page.get("/loans")
async def my_loans(request: Request, user: CurrentUser):
    found = await service.loans_of(pages.resources_of(request), user)
    return await pages.render(request, "lending/loans.html", title="Loans", nav="lending",
                              lent=[loan for loan in found if loan["lenderId"] == user.id],
                              borrowed=[loan for loan in found if loan["lenderId"] != user.id])
