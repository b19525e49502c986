"""What the API answers about a photo, and what an upload may say of it."""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from panamia.photos.documents import PhotoDocument
from panamia.schemas import Schema, single_line_problem

MAX_ALT = 300


def _one_line(value: str) -> str:
    if single_line_problem(value):
        raise ValueError("Write the description on one line, without hidden characters such "
                         "as direction marks.")
    return value


AltText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_ALT),
                    AfterValidator(_one_line)]


class PhotoSize(Schema):
    url: str
    width: int
    height: int


class PhotoView(Schema):
    """A photo as pages and clients show it: `sizes` from narrowest to widest, `url` the
    widest (for an `<img>` with `srcset`)."""

    alt: str
    url: str
    width: int
    height: int
    sizes: list[PhotoSize]

    @property
    def srcset(self) -> str:
        return ", ".join(f"{size.url} {size.width}w" for size in self.sizes)

    def nearest(self, width: int) -> PhotoSize:
        """The narrowest size at least `width` pixels wide, else the widest."""
        return next((size for size in self.sizes if size.width >= width), self.sizes[-1])

    @classmethod
    def of(cls, document: PhotoDocument) -> "PhotoView":
        sizes = [PhotoSize(url=f"/photos/{f.name}", width=f.width, height=f.height)
                 for f in sorted(document.files, key=lambda f: f.width)]
        widest = sizes[-1]
        return cls(alt=document.alt, url=widest.url, width=widest.width, height=widest.height,
                   sizes=sizes)


class PhotoForm(Schema):
    alt: AltText = ""
