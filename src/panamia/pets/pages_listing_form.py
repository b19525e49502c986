"""A sitter offers sitting, or edits what they offer: one form for both, sent to the same
services as `POST /listings` and `PATCH /listings/{id}`."""

from fastapi import Path, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Forbidden
from panamia.identity.dependencies import CurrentUser
from panamia.pets.listings import service as listings_service
from panamia.pets.listings.models import SERVICES, SPECIES
from panamia.pets.listings.schemas import ID_PATTERN, ListingCreate, ListingPatch, ListingView
from panamia.pets.pages_web import HELPERS, pets_router

router = pets_router()
ListingId = Path(pattern=ID_PATTERN)
GROUPS = ("services", "species")
TEXTS = ("title", "description", "pricePerDay", "currency", "maxPets", "city", "zip", "timezone")
LABELS = {"title": "Title", "description": "Description", "pricePerDay": "Price per night",
          "currency": "Currency", "services": "Services", "species": "Pets you take",
          "maxPets": "Most pets at a time", "city": "City", "zip": "ZIP code",
          "timezone": "Time zone", "available": "Taking bookings"}
DEFAULTS = {"currency": "USD", "maxPets": "1", "timezone": "America/New_York",
            "services": [], "species": [], "available": "on"}


def values_of(listing: ListingView) -> dict:
    data = listing.model_dump(mode="json", by_alias=True)
    values = {name: "" if data.get(name) is None else str(data[name]) for name in TEXTS}
    return {**values, "services": data["services"], "species": data["species"],
            "available": "on" if listing.available else ""}


async def form_page(request: Request, listing: ListingView | None, *, values: dict | None = None,
                    errors: dict | None = None, status: int = 200):
    return await pages.render(
        request, "pets/listing_form.html", status=status, nav="pets", **HELPERS,
        title=f"Edit “{listing.title}”" if listing else "Offer pet sitting", listing=listing,
        values=values or (values_of(listing) if listing else DEFAULTS), errors=errors or {},
        labels=LABELS, services=SERVICES, species_list=SPECIES,
    )


async def submitted(request: Request) -> dict:
    form = await request.form()
    values = {name: (form.get(name) or "").strip() for name in TEXTS}
    values["description"] = (form.get("description") or "").strip()
    return {**values, "services": form.getlist("services"), "species": form.getlist("species"),
            "available": form.get("available") or ""}


def body_of(values: dict, *, editing: bool) -> dict:
    body = {name: values[name] or None for name in TEXTS}
    body |= {"services": values["services"], "species": values["species"]}
    if editing:
        body["available"] = values["available"] == "on"
        # A PATCH refuses null for these; an empty box is "fill this in", not "remove".
        body = {k: v for k, v in body.items() if v is not None or k in ("description", "zip")}
    else:
        body = {k: v for k, v in body.items() if v is not None}
    return body


def form_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, message in pages.field_errors(exc).items():
        group = name.split(".")[0]
        if group in GROUPS:
            if name == group and message == "Fill this in.":
                message = "Choose at least one."
            name = group
        errors.setdefault(name if name in LABELS else "form", message)
    return errors


@router.get("/listings/new")
async def new_listing(request: Request, user: CurrentUser):
    return await form_page(request, None)


@router.post("/listings/new")
async def create_listing(request: Request, user: CurrentUser):
    values = await submitted(request)
    try:
        body = ListingCreate.model_validate(body_of(values, editing=False))
    except ValidationError as exc:
        return await form_page(request, None, values=values, errors=form_errors(exc), status=422)
    created = await listings_service.create_listing(pages.resources_of(request), user, body)
    return pages.redirect(request, f"/listings/{created.id}",
                          notice="Your listing is published. Block any nights you are away.")


async def editable(request: Request, user, listing_id: str) -> ListingView:
    listing = await listings_service.get_listing(pages.resources_of(request), listing_id)
    if listing.sitter_id != user.id and not user.is_admin:
        raise Forbidden("Only the listing's sitter may edit it.")
    return listing


@router.get("/listings/{listing_id}/edit")
async def edit_listing(request: Request, user: CurrentUser, listing_id: str = ListingId):
    return await form_page(request, await editable(request, user, listing_id))


@router.post("/listings/{listing_id}/edit")
async def save_listing(request: Request, user: CurrentUser, listing_id: str = ListingId):
    listing = await editable(request, user, listing_id)
    values = await submitted(request)
    try:
        patch = ListingPatch.model_validate(body_of(values, editing=True))
    except ValidationError as exc:
        return await form_page(request, listing, values=values, errors=form_errors(exc),
                               status=422)
    await listings_service.update_listing(pages.resources_of(request), user, listing_id, patch)
    return pages.redirect(request, f"/listings/{listing_id}", notice="Your listing is saved.")
