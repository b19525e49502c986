"""My sitting: the sitter's listings with their edit links, the requests waiting for an answer
with the moment each expires, and the stays to come."""

from fastapi import Request

from panamia import pages
from panamia.identity.dependencies import CurrentUser
from panamia.pets.bookings.pages import ASKED_FIRST, BUTTONS, WHAT_IT_DOES, public_of, rows_of
from panamia.pets.dashboard import service
from panamia.sidecar.pages import HELPERS, page_router

router = page_router()


@router.get("/sitting")
async def my_sitting(request: Request, user: CurrentUser):
    found = await service.sitter_dashboard(pages.resources_of(request), user)
    owners = [b.owner_id for b in (*found.waiting, *found.upcoming)]
    return await pages.render(
        request, "pets/sitting.html", nav="pets", **HELPERS, title="My sitting",
        listings=found.listings, waiting=await rows_of(request, found.waiting, "sitter"),
        upcoming=await rows_of(request, found.upcoming, "sitter"),
        public=await public_of(request, owners), buttons=BUTTONS, asked_first=ASKED_FIRST,
        what_it_does=WHAT_IT_DOES, back="/sitting",
    )
