"""Judging an upload by its content, and what is made of it (no database needed)."""

import io

import pytest
from PIL import Image

from panamia.errors import Invalid
from panamia.photos import images
from tests.photos import factories


class TestVariants:
    def test_a_camera_photo_is_turned_upright_and_loses_all_metadata(self):
        made = images.variants(factories.camera_jpeg(2000, 1000))
        assert [(v.width, v.height) for v in made] == [(160, 320), (480, 960), (1000, 2000)]
        for variant in made:
            served = factories.read(variant.data)
            assert served.format == "WEBP"
            assert dict(served.getexif()) == {}
            assert not {"exif", "xmp", "icc_profile"} & set(served.info)
        # Upright: the band stored at the left is now at the top.
        top = factories.read(made[-1].data).convert("RGB").getpixel((500, 10))
        assert top[0] > 200 and top[2] < 100

    def test_a_small_photo_is_never_enlarged(self):
        made = images.variants(factories.png(100, 50))
        assert [(v.width, v.height) for v in made] == [(100, 50)]
        assert factories.read(made[0].data).mode == "RGBA"  # transparency kept

    def test_a_large_photo_stops_at_1200_wide(self):
        made = images.variants(factories.camera_jpeg(3000, 2000, orientation=1))
        assert [v.width for v in made] == [160, 480, 1200]
        assert made[-1].height == 800

    def test_an_animated_image_gives_its_first_frame(self):
        made = images.variants(factories.animated_webp())
        first = factories.read(made[0].data)
        assert getattr(first, "n_frames", 1) == 1
        assert first.convert("RGB").getpixel((10, 10)) == pytest.approx((254, 0, 0), abs=3)


class TestRefusals:
    @pytest.mark.parametrize("data", [b"GIF89a" + b"\0" * 100, b"hello, I am text\n",
                                      b"\xff\xd8\xff\xe0 not really a jpeg", b""])
    def test_what_is_not_a_jpeg_png_or_webp_is_refused(self, data):
        with pytest.raises(Invalid, match="not a photo we can use: use a JPEG, PNG or WebP"):
            images.variants(data)

    def test_a_gif_is_refused_though_pillow_could_read_it(self):
        gif = Image.new("P", (10, 10))
        out = io.BytesIO()
        gif.save(out, "GIF")
        with pytest.raises(Invalid, match="not a photo we can use"):
            images.variants(out.getvalue())

    def test_a_decompression_bomb_is_refused_before_it_is_decoded(self):
        data = factories.bomb()
        assert len(data) < 200_000
        with pytest.raises(Invalid, match="too many pixels"):
            images.variants(data)

    def test_more_than_8_mb_is_refused(self):
        with pytest.raises(images.PhotoTooLarge, match="larger than 8 MB"):
            images.variants(b"\xff" * (images.MAX_UPLOAD_BYTES + 1))
