"""Photo files, served by every service, and the upload endpoints of each kind of thing."""

import hashlib
import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile

from panamia.bodies import Allowance
from panamia.errors import Forbidden, Invalid, NotFound, Unauthorized, responses
from panamia.photos import service
from panamia.photos.images import MAX_UPLOAD_BYTES, PhotoTooLarge
from panamia.photos.schemas import AltText, PhotoView
from panamia.resources import ResourcesDep

FILE_NAME = re.compile(r"[a-z0-9]{1,40}-[0-9]{1,5}\.webp")
# Each upload gets new file names, and a name never stands for other content: caches may
# keep a file for a year without asking again.
FOREVER = "public, max-age=31536000, immutable"
# The API's uploads may send a photo plus the form's few other fields. The upload page reads
# more (to disk, past the first megabyte), so that a browser without JavaScript sending a
# phone's largest photo (48 megapixels: 10 to 25 MB) is told why beside the field, not by
# the body limit's bare answer.
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
PAGE_UPLOAD_BODY_BYTES = 32 * 1024 * 1024
UPLOADS = (Allowance("/api/photos/", UPLOAD_BODY_BYTES, PhotoTooLarge),
           Allowance("/photos/", PAGE_UPLOAD_BODY_BYTES, PhotoTooLarge))
SubjectId = Annotated[str, Path(max_length=100, description="The thing's id (`me`: yourself)")]

files_router = APIRouter(tags=["photos"])


@files_router.get("/photos/{name}", summary="A photo file", response_class=Response,
                  responses={200: {"content": {"image/webp": {}}}} | responses(NotFound))
async def photo_file(name: Annotated[str, Path(max_length=60)], request: Request,
                     resources: ResourcesDep) -> Response:
    """A WebP file of a photo, at one width. The name comes from a photo's `sizes`."""
    data = await service.read_file(resources, name) if FILE_NAME.fullmatch(name) else None
    if data is None:
        raise NotFound("There is no such photo: it may have been replaced or removed.",
                       error="photo not found")
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    headers = {"Cache-Control": FOREVER, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/webp", headers=headers)


def api_router(subject: service.Subject, current_user, optional_user) -> APIRouter:
    """`GET`, `PUT` and `DELETE /api/photos/<kind>/{subjectId}`; `current_user` and
    `optional_user` are the app's dependencies for who is asking."""
    router = APIRouter(prefix=f"/api/photos/{subject.kind}", tags=["photos"])
    missing = (NotFound, f"No such thing, or no {subject.noun}")
    refusals = responses(Unauthorized, Forbidden, missing)

    @router.get("/{subject_id}", response_model=PhotoView, summary=f"The {subject.noun}",
                responses=responses(missing), operation_id=f"get_{subject.kind}_photo")
    async def show(subject_id: SubjectId, user: optional_user,
                   resources: ResourcesDep) -> PhotoView:
        """404 as well for a thing you may not see."""
        return await service.shown_photo(resources, subject, user, subject_id)

    @router.put(
        "/{subject_id}", response_model=PhotoView, summary=f"Upload the {subject.noun}",
        responses=refusals | responses(PhotoTooLarge, (Invalid, "Not a JPEG, PNG or WebP")),
        operation_id=f"upload_{subject.kind}_photo",
    )
    async def upload(
        subject_id: SubjectId, user: current_user, resources: ResourcesDep,
        photo: Annotated[UploadFile, File(description="A JPEG, PNG or WebP of at most 8 MB")],
        alt: Annotated[AltText, Form(description="What the photo shows, for people who "
                                                 "cannot see it")] = "",
    ) -> PhotoView:
        """Replaces the one before. The photo is judged by its content, turned upright,
        stripped of its metadata (camera, location) and kept as WebP at a few widths."""
        return await service.upload_photo(resources, subject, user, subject_id, photo, alt)

    @router.delete("/{subject_id}", status_code=204, response_class=Response,
                   summary=f"Remove the {subject.noun}", responses=refusals,
                   operation_id=f"remove_{subject.kind}_photo")
    async def remove(subject_id: SubjectId, user: current_user,
                     resources: ResourcesDep) -> Response:
        await service.delete_photo(resources, subject, user, subject_id)
        return Response(status_code=204)

    return router
