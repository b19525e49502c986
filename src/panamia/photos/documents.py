"""The `photos` collection: one document for the photo of each thing that has one (a
profile, a listing, an article), naming the files of its widths in the store."""

from datetime import datetime

from pymongo import ASCENDING, IndexModel

from panamia.schemas import Schema

COLLECTION = "photos"

INDEXES = {
    COLLECTION: [
        # One photo per thing: a second upload replaces the first.
        IndexModel([("kind", ASCENDING), ("subjectId", ASCENDING)],
                   name="uq_photos_kind_subject", unique=True),
        # The files' sweep asks which photos still exist.
        IndexModel([("photoId", ASCENDING)], name="uq_photos_photo", unique=True),
        # Account deletion removes a member's photos (the reference map, `ownerId`).
        IndexModel([("ownerId", ASCENDING)], name="ix_photos_owner"),
    ]
}


class PhotoFile(Schema):
    width: int
    height: int
    name: str


class PhotoDocument(Schema):
    """`photoId` begins the name of each of its files (`<photoId>-<width>.webp`), and is new
    with every upload, so a file's name never stands for other content."""

    photo_id: str
    kind: str
    subject_id: str
    owner_id: str
    alt: str
    files: list[PhotoFile]
    created_at: datetime

    @property
    def file_names(self) -> list[str]:
        return [file.name for file in self.files]


def photo_id_of(file_name: str) -> str:
    return file_name.split("-", 1)[0]
