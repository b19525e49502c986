"""Photos of things (a profile, a listing, an article): upload one, replacing the one
before; remove it; look them up for a page; sweep away files no photo names any more."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from panamia.db.postgres import new_id
from panamia.errors import Invalid, NotFound, Unauthorized
from panamia.fields import mongo_now
from panamia.photos import images
from panamia.photos.documents import COLLECTION, PhotoDocument, PhotoFile, photo_id_of
from panamia.photos.schemas import PhotoView
from panamia.photos.store import store_of
from panamia.resources import Resources

# A file is written before the document that names it: the sweep leaves files this young
# alone, so it never takes those of an upload still under way.
SWEEP_GRACE = timedelta(hours=1)
SWEEP_BATCH = 500


# Keeps an account from being deleted until the session's transaction ends; False when it is
# gone. Identity's `account.hold_account`, handed over by each domain's `Subject`.
HoldAccount = Callable[[AsyncSession, str], Awaitable[bool]]


async def replace_photo(resources: Resources, *, kind: str, subject_id: str, owner_id: str,
                        data: bytes, alt: str, hold_account: HoldAccount) -> PhotoView:
    """Make `data` the photo of `subject_id`; the files of the one before are deleted.

    The document is written while the owner's account is held, as `ensure_profile` does, so
    it cannot outlive the account: a deletion waits for it and its `user.deleted` event then
    removes it; once the account is gone, nothing is written."""
    made = await asyncio.to_thread(images.variants, data)
    photo_id = new_id()
    files = [PhotoFile(width=v.width, height=v.height, name=f"{photo_id}-{v.width}.webp")
             for v in made]
    store = store_of(resources)
    for file, variant in zip(files, made, strict=True):
        await store.put(file.name, variant.data)
    document = PhotoDocument(photo_id=photo_id, kind=kind, subject_id=subject_id,
                             owner_id=owner_id, alt=alt, files=files, created_at=mongo_now())
    try:
        async with resources.db.begin() as db:
            if not await hold_account(db, owner_id):
                raise Unauthorized("This account no longer exists.")
            before = await _swap(resources, document)
    except BaseException:
        await store.delete(document.file_names)
        raise
    if before is not None:
        await store.delete(before.file_names)
    return PhotoView.of(document)


async def _swap(resources: Resources, document: PhotoDocument) -> PhotoDocument | None:
    """Put `document` in place of the subject's photo document; the one it replaced."""
    photos = resources.mongo[COLLECTION]
    key = {"kind": document.kind, "subjectId": document.subject_id}
    for attempt in range(2):
        try:
            before = await photos.find_one_and_replace(
                key, document.model_dump(by_alias=True), upsert=True,
                return_document=ReturnDocument.BEFORE)
            break
        except DuplicateKeyError:  # a first upload for the subject raced this one
            if attempt:
                raise
    return PhotoDocument.model_validate(before) if before else None


async def remove_photo(resources: Resources, *, kind: str, subject_id: str) -> bool:
    """Remove the subject's photo and its files; False when it had none."""
    removed = await resources.mongo[COLLECTION].find_one_and_delete(
        {"kind": kind, "subjectId": subject_id})
    if removed is None:
        return False
    await store_of(resources).delete(PhotoDocument.model_validate(removed).file_names)
    return True


async def photos_of(resources: Resources, kind: str,
                    subject_ids: Iterable[str]) -> dict[str, PhotoView]:
    """The photo of each of these subjects that has one, in one query."""
    found = resources.mongo[COLLECTION].find(
        {"kind": kind, "subjectId": {"$in": list(dict.fromkeys(subject_ids))}})
    return {raw["subjectId"]: PhotoView.of(PhotoDocument.model_validate(raw))
            async for raw in found}


async def photo_of(resources: Resources, kind: str, subject_id: str) -> PhotoView | None:
    return (await photos_of(resources, kind, [subject_id])).get(subject_id)


async def read_file(resources: Resources, name: str) -> bytes | None:
    return await store_of(resources).get(name)


async def sweep(resources: Resources, now: datetime) -> int:
    """Delete the files that no photo names (their photo was replaced while a deletion
    failed, or went with an account); how many. Run by the main app's purge."""
    store = store_of(resources)
    names = await store.stored_before(now - SWEEP_GRACE)
    orphans = []
    for start in range(0, len(names), SWEEP_BATCH):
        batch = names[start:start + SWEEP_BATCH]
        ids = list({photo_id_of(name) for name in batch})
        kept = {raw["photoId"] async for raw in resources.mongo[COLLECTION].find(
            {"photoId": {"$in": ids}}, {"photoId": 1})}
        orphans += [name for name in batch if photo_id_of(name) not in kept]
    await store.delete(orphans)
    return len(orphans)


# Who may change a thing's photo: the thing's id when `user` may, else NotFound or Forbidden.
# Who may see it: the same, for `user` or None (signed out), else NotFound.
Authorize = Callable[[Resources, Any, str], Awaitable[str]]


@dataclass(frozen=True)
class Subject:
    """A kind of thing with a photo, as its domain declares it."""

    kind: str  # in URLs and stored documents: "profiles", "listings", "articles"
    noun: str  # what a member calls the photo: "profile picture"
    authorize: Authorize
    see: Authorize
    page: Callable[[str], str]  # the thing's page, to go back to
    hold_account: HoldAccount

    async def photo(self, resources: Resources, subject_id: str) -> PhotoView | None:
        return await photo_of(resources, self.kind, subject_id)

    async def photos(self, resources: Resources,
                     subject_ids: Iterable[str]) -> dict[str, PhotoView]:
        """The photos of a page of things (by their ids), in one query."""
        return await photos_of(resources, self.kind, subject_ids)


async def read_upload(upload: UploadFile | str | None) -> bytes:
    """The bytes of an uploaded file, refused past the size limit without reading it all."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("Choose a photo to upload.", fields=["photo"])
    data = await upload.read(images.MAX_UPLOAD_BYTES + 1)
    if len(data) > images.MAX_UPLOAD_BYTES:
        raise images.PhotoTooLarge()
    return data


async def upload_photo(resources: Resources, subject: Subject, user, subject_id: str,
                       upload: UploadFile | str | None, alt: str) -> PhotoView:
    """`user` makes `upload` the photo of the thing, if they may."""
    subject_id = await subject.authorize(resources, user, subject_id)
    data = await read_upload(upload)
    return await replace_photo(resources, kind=subject.kind, subject_id=subject_id,
                               owner_id=user.id, data=data, alt=alt,
                               hold_account=subject.hold_account)


async def shown_photo(resources: Resources, subject: Subject, user, subject_id: str) -> PhotoView:
    """The thing's photo, for someone who may see the thing."""
    found = await subject.photo(resources, await subject.see(resources, user, subject_id))
    if found is None:
        raise NotFound(f"There is no {subject.noun}.", error="no photo")
    return found


async def delete_photo(resources: Resources, subject: Subject, user, subject_id: str) -> None:
    subject_id = await subject.authorize(resources, user, subject_id)
    if not await remove_photo(resources, kind=subject.kind, subject_id=subject_id):
        raise NotFound(f"There is no {subject.noun} to remove.", error="no photo")
