"""The listing form, to offer pet sitting or edit an offer. It goes through the JSON API's
services (`POST /listings`, `PATCH /listings/{id}`). Currency and time zone are choices; a new
listing starts from the place on the member's profile, and a time zone left to "work it out"
comes from the ZIP code or the state named with the city."""

from fastapi import Path, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Forbidden
from panamia.fields import CURRENCIES
from panamia.identity.dependencies import CurrentUser, Principal
from panamia.pets.listings import places
from panamia.pets.listings import service as listings_service
from panamia.pets.listings.models import SERVICES, SPECIES
from panamia.pets.listings.schemas import ID_PATTERN, ListingCreate, ListingPatch, ListingView
from panamia.profiles import service as profiles_service
from panamia.sidecar.pages import HELPERS, page_router

router = page_router()
ListingId = Path(pattern=ID_PATTERN)
GROUPS = ("services", "species")
# What a field's problem is, in words, whatever the validation said.
IN_WORDS = {"currency": "Choose a currency from the list.",
            "timezone": "Choose a time zone from the list.",
            "maxPets": "Enter a number from 1 to 20."}
NO_ZONE = ("Choose your time zone: the ZIP code and city do not tell it (add the state, "
           "like “Miami, FL”, or pick it from the list).")
TEXTS = ("title", "description", "pricePerDay", "currency", "maxPets", "city", "zip", "timezone")
LABELS = {"title": "Title", "description": "Description", "pricePerDay": "Price per night",
          "currency": "Currency", "services": "Services", "species": "Pets you take",
          "maxPets": "Most pets at a time", "city": "City", "zip": "ZIP code",
          "timezone": "Time zone", "available": "Taking bookings"}
DEFAULTS = {"currency": "USD", "maxPets": "1", "timezone": "", "services": [], "species": [],
            "available": "on"}


def values_of(listing: ListingView) -> dict:
    data = listing.model_dump(mode="json", by_alias=True)
    values = {name: "" if data.get(name) is None else str(data[name]) for name in TEXTS}
    return {**values, "services": data["services"], "species": data["species"],
            "available": "on" if listing.available else ""}


async def starting_values(request: Request, user: Principal) -> dict:
    """A new listing's form, with the city, ZIP code and time zone of the member's profile."""
    own = await profiles_service.own_profile(pages.resources_of(request), user)
    where = own.profile.location
    if where is None:
        return DEFAULTS
    city = ", ".join(part for part in (where.city, where.state) if part)
    zone = places.zone_for(zip_code=where.zip, place=where.state)
    return {**DEFAULTS, "city": city, "zip": where.zip or "", "timezone": zone or ""}


def currency_choices(current: str | None) -> list[tuple[str, str]]:
    """The currencies offered; one already stored stays a choice."""
    choices = [(code, f"{name} ({code})") for code, name in CURRENCIES]
    if current and current not in dict(CURRENCIES):
        choices.append((current, current))
    return choices


async def form_page(request: Request, listing: ListingView | None, *, values: dict,
                    errors: dict | None = None, status: int = 200):
    return await pages.render(
        request, "pets/listing_form.html", status=status, nav="pets", **HELPERS,
        title=f"Edit “{listing.title}”" if listing else "Offer pet sitting", listing=listing,
        values=values, errors=errors or {}, labels=LABELS, services=SERVICES,
        species_list=SPECIES, currencies=currency_choices(listing.currency if listing else None),
        zones=places.zone_choices(listing.timezone if listing else None),
    )


async def submitted(request: Request) -> dict:
    """The form as typed; a time zone left to "work it out" is the place's, if it tells."""
    form = await request.form()
    values = {name: (form.get(name) or "").strip() for name in TEXTS}
    values["timezone"] = values["timezone"] or places.zone_for(
        zip_code=values["zip"], place=values["city"]) or ""
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


def checked(model: type[ListingCreate] | type[ListingPatch], values: dict, *, editing: bool):
    """The body `values` stand for, or None and the message for each field at fault. A time
    zone nobody chose and the place does not tell is one of them, not a silent default."""
    errors: dict[str, str] = {}
    body = None
    try:
        body = model.model_validate(body_of(values, editing=editing))
    except ValidationError as exc:
        for name, message in pages.field_errors(exc).items():
            group = name.split(".")[0]
            if group in GROUPS:
                message = "Choose at least one." if name == group else "Choose from the list."
                name = group
            message = IN_WORDS.get(name, message)
            errors.setdefault(name if name in LABELS else "form", message)
    if not values["timezone"]:
        errors["timezone"] = NO_ZONE
    return (None if errors else body), errors


@router.get("/listings/new")
async def new_listing(request: Request, user: CurrentUser):
    return await form_page(request, None, values=await starting_values(request, user))


@router.post("/listings/new")
async def create_listing(request: Request, user: CurrentUser):
    values = await submitted(request)
    body, errors = checked(ListingCreate, values, editing=False)
    if errors:
        return await form_page(request, None, values=values, errors=errors, status=422)
    created = await listings_service.create_listing(pages.resources_of(request), user, body)
    return pages.redirect(request, f"/listings/{created.id}",
                          notice="Your listing is published. Find it under My sitting; block "
                                 "any nights you are away.")


async def editable(request: Request, user, listing_id: str) -> ListingView:
    listing = await listings_service.get_listing(pages.resources_of(request), listing_id)
    if listing.sitter_id != user.id and not user.is_admin:
        raise Forbidden("Only the listing's sitter may edit it.")
    return listing


@router.get("/listings/{listing_id}/edit")
async def edit_listing(request: Request, user: CurrentUser, listing_id: str = ListingId):
    listing = await editable(request, user, listing_id)
    return await form_page(request, listing, values=values_of(listing))


@router.post("/listings/{listing_id}/edit")
async def save_listing(request: Request, user: CurrentUser, listing_id: str = ListingId):
    listing = await editable(request, user, listing_id)
    values = await submitted(request)
    patch, errors = checked(ListingPatch, values, editing=True)
    if errors:
        return await form_page(request, listing, values=values, errors=errors, status=422)
    await listings_service.update_listing(pages.resources_of(request), user, listing_id, patch)
    return pages.redirect(request, f"/listings/{listing_id}", notice="Your listing is saved.")
