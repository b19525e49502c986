"""Profile use cases: ensure, read, edit, show publicly, list in the directory."""

import re
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Literal

import bson

from panamia.errors import Conflict, DomainError, NotFound, Unauthorized
from panamia.fields import folded_words, mongo_now, normalize_label
from panamia.identity import account, people
from panamia.identity.dependencies import Principal
from panamia.identity.schemas import SessionUser
from panamia.profiles import documents, repository
from panamia.profiles.documents import ProfileDocument, ProfileFields
from panamia.profiles.schemas import (
    CategoryCount,
    DirectoryPage,
    OwnProfile,
    ProfilePatch,
    ProfileView,
    PublicProfile,
)
from panamia.resources import Resources

DIRECTORY_PAGE_SIZE = 20
MAX_QUERY_WORDS = 5
COUNT_LIMIT = 1000
CATEGORIES_SHOWN = 50
CATEGORY_COUNTS_SECONDS = 60.0
_category_counts: dict[str, tuple[float, list[CategoryCount]]] = {}
SAVE_ATTEMPTS = 3
MERGED = ("social_links", "hours")


class TooLarge(DomainError):
    status = 413
    error = "too large"


async def ensure_profile(
    resources: Resources, user_id: str, name: str | None = None
) -> dict[str, Any]:
    """The user's profile, created with defaults on first access. Safe to race, with itself
    and with the deletion of the account.

    Creating is one atomic upsert on the unique `userId` index, so racing first accesses
    make one profile. The upsert runs while the account is held against deletion
    (`account.hold_account`), in that order, so the profile can never outlive the account:
    a deletion waits for the upsert and then removes the profile through its `user.deleted`
    event, and once the account is gone nothing is created. Checking first and upserting
    after would let a request that read its session just before a deletion recreate the
    profile after the relay removed it, for a user who no longer exists.
    """
    profile = await repository.find_profile(resources.mongo, user_id)
    if profile is not None:
        return profile
    async with resources.db.begin() as db:
        if not await account.hold_account(db, user_id):
            raise Unauthorized("This account no longer exists.")
        profile = await repository.upsert_profile(
            resources.mongo, user_id, documents.new_profile(name, mongo_now())
        )
    if profile is None:  # lost the race to a writer that removed it again
        raise Conflict("The profile changed while it was being created; try again.")
    return profile


async def own_profile(resources: Resources, principal: Principal) -> OwnProfile:
    """The signed-in person as PostgreSQL knows them (read with the session, no extra query)
    and their profile document (created on this first access)."""
    profile = await ensure_profile(resources, principal.id, principal.name)
    return OwnProfile(user=SessionUser.of(principal), profile=ProfileView.model_validate(profile))


def merge(current: ProfileFields, patch: ProfilePatch) -> ProfileFields:
    changes: dict[str, Any] = {}
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if name in MERGED:
            value = getattr(current, name).model_copy(
                update={key: getattr(value, key) for key in value.model_fields_set}
            )
        changes[name] = value
    return current.model_copy(update=changes)


def check_size(document: dict[str, Any]) -> None:
    size = len(bson.encode(document))
    if size > documents.MAX_DOCUMENT_BYTES:
        raise TooLarge(
            f"The profile would be {size:,} bytes; a profile holds at most "
            f"{documents.MAX_DOCUMENT_BYTES:,} bytes (64 KiB). Shorten the bio, or use "
            "fewer or shorter images, links or extra fields."
        )


async def update_profile(
    resources: Resources, principal: Principal, patch: ProfilePatch
) -> OwnProfile:
    """Merge `patch` into the stored profile and save it unless someone saved in between
    (then merge again, a few times). The merged document must stay within 64 KiB."""
    for _ in range(SAVE_ATTEMPTS):
        raw = await ensure_profile(resources, principal.id, principal.name)
        current = ProfileDocument.model_validate(raw)
        merged = merge(current, patch)
        values = {**documents.stored(merged, set(patch.model_fields_set)),
                  "updatedAt": mongo_now()}
        check_size({**raw, **values})
        saved = await repository.set_if_version(
            resources.mongo, principal.id, current.version, values
        )
        if saved is not None:
            if "name" in patch.model_fields_set and patch.name != principal.name:
                await people.set_name(resources, principal.id, patch.name)
                principal = replace(principal, name=patch.name)
            return OwnProfile(user=SessionUser.of(principal),
                              profile=ProfileView.model_validate(saved))
    raise Conflict("The profile kept changing while it was being saved; try again.")


def not_found(screenname: str) -> NotFound:
    return NotFound(f"No public profile is named {screenname!r}.",
                    error="profile not found")


async def public_profile(resources: Resources, screenname: str) -> PublicProfile:
    person = await people.person_by_screenname(resources, screenname)
    if person is None:
        raise not_found(screenname)
    profile = await repository.find_active(resources.mongo, person.id)
    if profile is None:
        raise not_found(screenname)
    return PublicProfile.model_validate({**profile, "screenname": person.screenname})


async def with_public_profile(resources: Resources, user_ids: Iterable[str]) -> set[str]:
    """Which of these users have a public profile page (an active profile): a link to anyone
    else's would find nothing."""
    wanted = sorted(set(user_ids))
    return await repository.active_user_ids(resources.mongo, wanted) if wanted else set()


SORTS = {"name": [("sortName", 1), ("_id", 1)], "newest": [("createdAt", -1), ("_id", -1)]}
Sort = Literal["name", "newest"]


def directory_query(words: list[str], category: str | None,
                    screennames: dict[str, str]) -> dict[str, Any]:
    """Every word must start a word of the place, name, categories or bio (accents and case
    ignored), or be the screenname of the profile's owner (`screennames`, from PostgreSQL).
    Anchored prefix regexes on the indexed `searchWords` field stand in for `$text`, which
    SecantusDB lacks."""
    query: dict[str, Any] = {"active": True}
    conditions = []
    for word in words:
        prefix = {"searchWords": {"$regex": f"^{re.escape(word)}"}}
        owner = screennames.get(word)
        conditions.append({"$or": [prefix, {"userId": owner}]} if owner else prefix)
    if conditions:
        query["$and"] = conditions
    if category:
        query["categories"] = normalize_label(category)
    return query


async def directory(
    resources: Resources, *, q: str | None, category: str | None, page: int,
    sort: Sort = "name",
) -> DirectoryPage:
    """Active profiles by name or newest first, 20 a page, with how many match (counted up
    to 1,000); screennames come from PostgreSQL in one query. A profile whose account is
    gone is left out."""
    words = folded_words(q or "")[:MAX_QUERY_WORDS]
    query = directory_query(words, category, await people.ids_by_screenname(resources, words))
    skip = (page - 1) * DIRECTORY_PAGE_SIZE
    found = await repository.find_page(resources.mongo, query, SORTS[sort], skip=skip,
                                       limit=DIRECTORY_PAGE_SIZE + 1)
    has_more = len(found) > DIRECTORY_PAGE_SIZE
    # Counting is a second query; a last page already tells how many there are.
    total = (await repository.count(resources.mongo, query, limit=COUNT_LIMIT + 1)
             if has_more or (page > 1 and not found) else skip + len(found))
    shown = found[:DIRECTORY_PAGE_SIZE]
    owners = await people.people_by_id(resources, (p["userId"] for p in shown))
    items = [
        PublicProfile.model_validate({**p, "screenname": owners[p["userId"]].screenname})
        for p in shown if p["userId"] in owners
    ]
    return DirectoryPage(items=items, page=page, has_more=has_more,
                         total=min(total, COUNT_LIMIT), total_capped=total > COUNT_LIMIT)


async def categories_in_use(resources: Resources) -> list[CategoryCount]:
    """The categories of active profiles, the most used first (at most 50), with counts.

    Counting reads every active profile, and the picker is on every directory page, so the
    counts are kept for a minute per database (they may lag that much behind edits)."""
    key, now = resources.mongo.name, time.monotonic()
    cached = _category_counts.get(key)
    if cached is None or now - cached[0] > CATEGORY_COUNTS_SECONDS:
        counted = await repository.count_categories(resources.mongo, limit=CATEGORIES_SHOWN)
        cached = _category_counts[key] = (
            now, [CategoryCount(name=row["_id"], count=row["count"]) for row in counted])
    return cached[1]
