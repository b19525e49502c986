"""What checking and re-encoding a photo costs, and what it gives.

Run: `.venv/bin/python bench/photos.py [--runs 3]`

Makes a 12-megapixel JPEG the way a phone's photo is detailed (noise, softened as a lens
does; 4032 × 3024, quality 92), then times `photos.images.variants` on it (CPU seconds, in
this process, no database) and prints the size of each WebP it makes. It prints figures and
asserts nothing.
"""

import argparse
import io
import time

from PIL import Image, ImageFilter

from panamia.photos import images


def phone_photo() -> bytes:
    noise = Image.effect_noise((4032, 3024), 64).filter(ImageFilter.GaussianBlur(1))
    photo = Image.merge("RGB", (noise, noise.rotate(180),
                                noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    data = phone_photo()
    print(f"upload: 4032 x 3024 JPEG, {len(data) / 2**20:.1f} MiB")
    seconds = []
    for _ in range(runs):
        started = time.process_time()
        made = images.variants(data)
        seconds.append(time.process_time() - started)
    print(f"CPU seconds per upload ({runs} runs): " + ", ".join(f"{s:.2f}" for s in seconds))
    print("files: " + ", ".join(f"{v.width} x {v.height} {len(v.data) / 1024:.1f} KiB"
                                for v in made))


if __name__ == "__main__":
    main()
