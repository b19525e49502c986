"""Reading an upload as a photo, judged by its content, and re-encoding it at a few widths
with no metadata left (no EXIF, so no camera location)."""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from panamia.errors import DomainError, Invalid

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# More than any phone camera takes (a 50-megapixel sensor is 8,160 × 6,120); a small file
# that claims more is a decompression bomb: decoding it would take gigabytes of memory.
MAX_PIXELS = 50_000_000
# Pillow's own guard: it refuses to open an image over twice this.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
FORMATS = ("JPEG", "PNG", "WEBP")
WIDTHS = (160, 480, 1200)
QUALITY = 82


class PhotoTooLarge(DomainError):
    status = 413
    error = "photo too large"
    description = "The photo is over 8 MB"

    def __init__(self):
        super().__init__("This photo is larger than 8 MB. Choose a smaller one, or save it at "
                         "a lower size or quality and try again.")


def not_a_photo() -> Invalid:
    return Invalid("This file is not a photo we can use: use a JPEG, PNG or WebP.",
                   fields=["photo"])


def too_many_pixels() -> Invalid:
    return Invalid("This photo has too many pixels (over 50 megapixels). Make it smaller and "
                   "try again.", fields=["photo"])


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def widths_for(original: int) -> list[int]:
    """The widths to make of an image `original` pixels wide: never wider than it."""
    return [w for w in WIDTHS[:-1] if w < original] + [min(original, WIDTHS[-1])]


def open_photo(data: bytes) -> Image.Image:
    """The first frame of `data`, decoded, when it is a JPEG, PNG or WebP of sane size,
    whatever its name or declared type said."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoTooLarge()
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise too_many_pixels()
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=FORMATS)  # verify() spends the first
        # A JPEG decodes straight at a fraction of its size, still at least as large as needed.
        image.draft("RGB", (WIDTHS[-1], WIDTHS[-1]))
        image.load()
    except Image.DecompressionBombError as exc:
        raise too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise not_a_photo() from exc
    return image


def variants(data: bytes) -> list[Variant]:
    """`data` as WebP at each width of `widths_for`, turned upright as the camera said and
    with nothing else of its metadata: built from the pixels alone."""
    image = ImageOps.exif_transpose(open_photo(data))
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    pixels = image.convert("RGBA" if has_alpha else "RGB")
    pixels.info.clear()
    made = []
    for width in widths_for(pixels.width):
        height = max(1, round(pixels.height * width / pixels.width))
        resized = pixels if width == pixels.width else pixels.resize((width, height),
                                                                     Image.Resampling.LANCZOS)
        out = io.BytesIO()
        resized.save(out, "WEBP", quality=QUALITY, method=4)
        made.append(Variant(width, height, out.getvalue()))
    return made
