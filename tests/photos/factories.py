"""Photo files as cameras and people make them: with GPS and orientation in their EXIF,
renamed, too large, or not photos at all."""

import io

from PIL import ExifTags, Image

MIAMI = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (25.0, 46.0, 31.0),
         ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (80.0, 11.0, 38.0)}
ROTATED_90 = 6  # EXIF orientation: the camera was held on its side


def camera_jpeg(width: int = 2000, height: int = 1000, *, orientation: int = ROTATED_90) -> bytes:
    """A JPEG as a phone takes it: GPS location, camera model, stored sideways with the
    orientation saying how to turn it upright."""
    image = Image.new("RGB", (width, height), "#2a7ab0")
    image.paste((240, 200, 40), (0, 0, width // 4, height))  # a yellow band at the stored left
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(MIAMI)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A PNG of a few kilobytes that would decode to 200 megapixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 10_000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (64, 64), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def read(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
