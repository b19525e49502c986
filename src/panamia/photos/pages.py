"""The page where a member uploads, replaces or removes the photo of a thing of theirs; it
works without JavaScript (a form with a file input)."""

from fastapi import APIRouter, Request
from pydantic import ValidationError

from panamia import pages
from panamia.errors import Invalid
from panamia.photos import service
from panamia.photos.images import MAX_UPLOAD_BYTES, PhotoTooLarge
from panamia.photos.schemas import PhotoForm

ACCEPT = "image/jpeg,image/png,image/webp"


def page_router(subject: service.Subject, current_user) -> APIRouter:
    """`/photos/<kind>/{subject_id}`: the form, its upload and its removal."""
    router = pages.page_router(prefix=f"/photos/{subject.kind}")

    async def form_page(request: Request, user, subject_id: str, *, status: int = 200,
                        values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None):
        resources = pages.resources_of(request)
        subject_id = await subject.authorize(resources, user, subject_id)
        current = await service.photo_of(resources, subject.kind, subject_id)
        return await pages.render(
            request, "photo_form.html", status=status, title=subject.noun.capitalize(),
            subject=subject, subject_id=subject_id, photo=current, accept=ACCEPT,
            max_megabytes=MAX_UPLOAD_BYTES // 2**20, back=subject.page(subject_id),
            values=values or {"alt": current.alt if current else ""}, errors=errors or {},
            labels={"photo": "Photo", "alt": "Description"},
        )

    @router.get("/{subject_id}")
    async def show(request: Request, subject_id: str, user: current_user):
        return await form_page(request, user, subject_id)

    @router.post("/{subject_id}")
    async def upload(request: Request, subject_id: str, user: current_user):
        form = await request.form()
        values = {"alt": str(form.get("alt") or "")}
        resources = pages.resources_of(request)
        try:
            alt = PhotoForm.model_validate(values).alt
            await service.upload_photo(resources, subject, user, subject_id, form.get("photo"),
                                       alt)
        except ValidationError as exc:
            return await form_page(request, user, subject_id, status=422, values=values,
                                   errors=pages.field_errors(exc))
        except Invalid as exc:
            return await form_page(request, user, subject_id, status=422, values=values,
                                   errors=pages.invalid_errors(exc))
        except PhotoTooLarge as exc:
            return await form_page(request, user, subject_id, status=413, values=values,
                                   errors={"photo": exc.detail})
        return pages.redirect(request, subject.page(subject_id),
                              notice=f"Your {subject.noun} is saved.")

    @router.post("/{subject_id}/remove")
    async def remove(request: Request, subject_id: str, user: current_user):
        await service.delete_photo(pages.resources_of(request), subject, user, subject_id)
        return pages.redirect(request, subject.page(subject_id),
                              notice=f"The {subject.noun} is removed.")

    return router
