"""`/account/money`: a member's money in plain words, what they may spend and what is held."""

from fastapi import Request

from panamia import pages
from panamia.identity.dependencies import CurrentUser
from panamia.ledger import service
from panamia.ledger.money import show

# What a hold is for, as the member reads it; other sidecars' holds show their ref_type.
HELD_FOR = {
    "exchange_bid": "your leading bid",
    "exchange_transaction": "a purchase, until the item is handed over and accepted",
    "rental": "a rental deposit, until the item is returned",
}
EVENTS = {"manual.deposit": "Money received", "manual.payout": "Money paid out to you"}

router = pages.page_router()


def held_for(ref_type: str) -> str:
    return HELD_FOR.get(ref_type, ref_type.replace("_", " "))


@router.get("/account/money")
async def money_page(request: Request, user: CurrentUser):
    mine = await service.my_money(pages.resources_of(request), user.id)
    return await pages.render(request, "account_money.html", title="Your money", nav="account",
                              money=mine, show=show, held_for=held_for, events=EVENTS)
