"""The pets sidecar's pages, for people in a browser (docs/pages.md, "Pets pages").

They share their paths with the JSON API where the two name the same thing (`/listings/{id}`,
`/bookings`): a browser's request gets the page, any other the JSON (see `PetsPageRoute`).
"""

from fastapi import APIRouter

from panamia.pets import pages_bookings, pages_listing_form, pages_listings

router = APIRouter(include_in_schema=False)
# The form's `/listings/new` before the listing's `/listings/{listing_id}`.
router.include_router(pages_listing_form.router)
router.include_router(pages_listings.router)
router.include_router(pages_bookings.router)
