"""Profile pages: the front page, your account and profile editor, public profiles, the
directory."""

import re
from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import ValidationError

from panamia import pages
from panamia.articles import service as articles_service
from panamia.errors import DomainError, Invalid
from panamia.fields import clock_face, folded_words, normalize_label
from panamia.identity.dependencies import CurrentUser, OptionalUser
from panamia.profiles import photo as profile_photo, service
from panamia.profiles.documents import WEEKDAYS
from panamia.profiles.schemas import ProfilePatch, ProfileView
from panamia.social import follows

router = pages.page_router()
NETWORKS = {
    "website": "Website", "instagram": "Instagram", "facebook": "Facebook", "x": "X (Twitter)",
    "tiktok": "TikTok", "youtube": "YouTube", "spotify": "Spotify", "linkedin": "LinkedIn",
}
RECENT_ARTICLES = 5
PEOPLE_SHOWN = 6
LOCATION = ("neighborhood", "city", "state", "zip", "lat", "lng")
BLANK_CUSTOM_LINKS = 2
CUSTOM_LINK = re.compile(r"^socialLinks\.customLinks\.(\d+)\.(label|url)$")
LABELS = {"name": "Name", "bio": "Bio", "categories": "Categories", "location": "Location",
          "location.city": "City", "location.state": "State", "location.zip": "ZIP code",
          "location.neighborhood": "Neighborhood", "timeFormat": "Show times as"}
WORKDAYS = WEEKDAYS[:5]
SAME_WEEKDAYS = "sameWeekdays"


def label(name: str) -> str:
    """How the editor names the field `name`, for the error summary."""
    parts = name.split(".")
    if parts[0] == "hours" and len(parts) > 1:
        return " ".join([parts[1].capitalize(), *({"open": "opens", "close": "closes"}
                                                   .get(p, p) for p in parts[2:])])
    if parts[:2] == ["socialLinks", "customLinks"] and len(parts) == 4:
        return f"Other link {int(parts[2]) + 1}, {'label' if parts[3] == 'label' else 'address'}"
    if parts[0] == "socialLinks" and len(parts) == 2:
        return NETWORKS.get(parts[1], parts[1])
    return LABELS.get(name, name)


def shown_time(profile: ProfileView, hhmm: str) -> str:
    return clock_face(hhmm, hours24=profile.time_format == "24h")


def profile_values(profile: ProfileView) -> dict[str, str]:
    """The editor's fields, filled from the stored profile."""
    values = {"name": profile.name, "bio": profile.bio,
              "categories": ", ".join(profile.categories), "timeFormat": profile.time_format,
              "active": "on" if profile.active else ""}
    location = profile.location.model_dump() if profile.location else {}
    for key in LOCATION:
        values[f"location.{key}"] = "" if location.get(key) is None else str(location[key])
    for day in WEEKDAYS:
        hours = getattr(profile.hours, day)
        if hours and hours.closed:
            values[f"hours.{day}.closed"] = "on"
        elif hours:
            values[f"hours.{day}.open"] = shown_time(profile, hours.open)
            values[f"hours.{day}.close"] = shown_time(profile, hours.close)
    links = profile.social_links
    for network in NETWORKS:
        values[f"socialLinks.{network}"] = getattr(links, network) or ""
    for index, link in enumerate(links.custom_links or []):
        values[f"socialLinks.customLinks.{index}.label"] = link.label
        values[f"socialLinks.customLinks.{index}.url"] = link.url
    return values


def filled_link_rows(values: dict[str, str]) -> list[int]:
    """Row numbers of the custom links stored or typed in `values`."""
    return sorted({int(m.group(1)) for key, value in values.items()
                   if value.strip() and (m := CUSTOM_LINK.match(key))})


def custom_link_rows(values: dict[str, str]) -> list[int]:
    """The filled rows, then a couple of empty ones to add more links without JavaScript."""
    used = filled_link_rows(values)
    start = used[-1] + 1 if used else 0
    return used + list(range(start, start + BLANK_CUSTOM_LINKS))


def profile_patch(form: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The PATCH body a submitted editor stands for, and for each custom link sent, the form
    row it came from (empty rows are skipped, so error positions must be mapped back)."""

    def text(name: str) -> str | None:
        return form.get(name, "").strip() or None

    hours: dict[str, Any] = {}
    for day in WEEKDAYS:
        # "Same hours every weekday" reads Monday's row for Tuesday to Friday.
        row = "monday" if form.get(SAME_WEEKDAYS) and day in WORKDAYS else day
        opens, closes = text(f"hours.{row}.open"), text(f"hours.{row}.close")
        if form.get(f"hours.{row}.closed"):
            hours[day] = {"closed": True}
        else:
            hours[day] = {"open": opens, "close": closes} if opens or closes else None
    links: dict[str, Any] = {network: text(f"socialLinks.{network}") for network in NETWORKS}
    rows = filled_link_rows(form)
    links["customLinks"] = [{"label": text(f"socialLinks.customLinks.{row}.label") or "",
                             "url": text(f"socialLinks.customLinks.{row}.url") or ""}
                            for row in rows]
    location = {key: text(f"location.{key}") for key in LOCATION}
    body = {
        "name": (form.get("name") or "").strip(), "bio": (form.get("bio") or "").strip(),
        "categories": pages.split_list(form.get("categories")),
        "location": location if any(location.values()) else None,
        "hours": hours, "socialLinks": links, "active": bool(form.get("active")),
        "timeFormat": "24h" if form.get("timeFormat") == "24h" else "12h",
    }
    return body, rows


def row_errors(errors: dict[str, str], rows: list[int]) -> dict[str, str]:
    """Point custom-link errors at the form row that was typed in."""
    mapped = {}
    for name, message in errors.items():
        parts = name.split(".")
        if parts[:2] == ["socialLinks", "customLinks"] and len(parts) > 2 and parts[2].isdigit():
            parts[2] = str(rows[int(parts[2])])
        mapped[".".join(parts)] = message
    return mapped


async def account_page(request: Request, user, values: dict[str, str] | None = None, *,
                       status: int = 200, errors: dict[str, str] | None = None, **context):
    """The account page; after a failed save, with what was typed (`values`) and `errors`."""
    resources = pages.resources_of(request)
    own = await service.own_profile(resources, user)
    values = values if values is not None else profile_values(own.profile)
    errors = errors or {}
    return await pages.render(
        request, "account.html", status=status, title="Your account", nav="account",
        profile=own.profile, values=values, weekdays=WEEKDAYS, networks=NETWORKS,
        custom_rows=custom_link_rows(values), errors=errors,
        picture=await profile_photo.PICTURE.photo(resources, user.id),
        labels={name: label(name) for name in errors}, **context,
    )


@router.get("/account")
async def account(request: Request, user: CurrentUser):
    return await account_page(request, user)


@router.post("/account/profile")
async def save_profile(request: Request, user: CurrentUser):
    form = await pages.read_form(request)
    body, rows = profile_patch(form)
    try:
        patch = ProfilePatch.model_validate(body)
        await service.update_profile(pages.resources_of(request), user, patch)
    except ValidationError as exc:
        return await account_page(request, user, form, status=422,
                                  errors=row_errors(pages.field_errors(exc), rows))
    except Invalid as exc:
        return await account_page(request, user, form, status=422,
                                  errors=pages.invalid_errors(exc))
    except DomainError as exc:  # too large, or changed meanwhile: keep what was typed
        return await account_page(request, user, form, status=exc.status, error=exc.detail)
    return pages.redirect(request, "/account", notice="Your profile is saved.")


def opening_hours(profile: ProfileView) -> dict[str, str | None]:
    """Each day's hours as the member chose to show them: `9:00 AM – 5:00 PM`, `Closed`,
    or None when not given."""
    shown = {}
    for day in WEEKDAYS:
        hours = getattr(profile.hours, day)
        if hours is None:
            shown[day] = None
        elif hours.closed:
            shown[day] = "Closed"
        else:
            shown[day] = f"{shown_time(profile, hours.open)} – {shown_time(profile, hours.close)}"
    return shown


def public_links(profile: ProfileView) -> list[tuple[str, str]]:
    """(label, url) of every link to show; only http(s) addresses are ever stored."""
    links = profile.social_links
    named = [(title, getattr(links, network)) for network, title in NETWORKS.items()]
    custom = [(link.label, link.url) for link in links.custom_links or []]
    return [(title, url) for title, url in named + custom if url]


@router.get("/")
async def home(request: Request):
    """What Pana MIA is, recent articles, a few people."""
    resources = pages.resources_of(request)
    articles = await articles_service.list_articles(resources, None, page_size=RECENT_ARTICLES)
    found = await service.directory(resources, q=None, category=None, page=1)
    return await pages.render(request, "home.html", title="Welcome", articles=articles.items,
                              people=found.items[:PEOPLE_SHOWN],
                              pictures=await profile_photo.PICTURE.photos(
                                  resources, [person.user_id for person in found.items]))


@router.get("/people/{screenname}")
async def person(request: Request, screenname: Annotated[str, Path(max_length=64)],
                 user: OptionalUser):
    resources = pages.resources_of(request)
    profile = await service.public_profile(resources, screenname)
    hours = opening_hours(profile)
    articles = await articles_service.list_articles(resources, None, author=screenname,
                                                    page_size=5)
    return await pages.render(
        request, "person.html", title=profile.name or f"@{profile.screenname}",
        nav="directory", profile=profile, articles=articles.items, weekdays=WEEKDAYS,
        links=public_links(profile),
        picture=await profile_photo.PICTURE.photo(resources, profile.user_id),
        follows=await follows.follow_counts(resources, profile.user_id, user),
        hours=hours, has_hours=any(hours.values()),
        sections=await request.app.state.profile_sections(resources, profile.user_id),
    )


@router.get("/directory")
async def directory(
    request: Request,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    sort: service.Sort = "name",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    resources = pages.resources_of(request)
    found = await service.directory(resources, q=q, category=category, page=page, sort=sort)
    return await pages.render(
        request, "directory.html", title="Directory", nav="directory", found=found,
        pictures=await profile_photo.PICTURE.photos(
            resources, [person.user_id for person in found.items]),
        q=q or "", category=normalize_label(category or ""), sort=sort,
        categories=await service.categories_in_use(resources),
        several_words=len(folded_words(q or "")) > 1,
    )
