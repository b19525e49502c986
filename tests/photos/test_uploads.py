"""Uploading photos through the API, and the files every service then serves."""

from datetime import UTC, datetime, timedelta

import pytest

from panamia.errors import Unauthorized
from panamia.identity import account
from panamia.outbox import relay
from panamia.photos import service
from panamia.photos.images import MAX_UPLOAD_BYTES
from tests.identity.factories import csrf_headers
from tests.fixtures.http import signed_in_member
from tests.photos import factories

PICTURE = "/api/photos/profiles/me"


@pytest.fixture(params=["gridfs", "directory"])
def settings(settings, request, tmp_path):
    """Every test here runs against both stores: GridFS, and a directory."""
    return settings.model_copy(update={"photos_store": request.param,
                                       "photos_dir": tmp_path / "photos"})


async def upload(client, data: bytes, *, name: str = "photo.jpg", content_type: str = "image/jpeg",
                 alt: str = "", path: str = PICTURE):
    return await client.put(path, files={"photo": (name, data, content_type)},
                            data={"alt": alt}, headers=await csrf_headers(client))


async def stored_names(resources) -> set[str]:
    return set(await service.store_of(resources).stored_before(datetime.now(UTC) + timedelta(1)))


class TestUpload:
    async def test_a_camera_photo_is_served_upright_without_any_metadata(self, client, resources):
        await signed_in_member(client, resources)
        response = await upload(client, factories.camera_jpeg(2000, 1000), alt="Me at the beach")
        assert response.status_code == 200, response.text
        photo = response.json()
        assert photo["alt"] == "Me at the beach"
        assert [(s["width"], s["height"]) for s in photo["sizes"]] == [
            (160, 320), (480, 960), (1000, 2000)]
        for size in photo["sizes"]:
            served = await client.get(size["url"])
            assert served.status_code == 200
            assert served.headers["content-type"] == "image/webp"
            image = factories.read(served.content)
            assert image.size == (size["width"], size["height"])
            assert dict(image.getexif()) == {} and "exif" not in image.info
            assert b"PhoneMaker" not in served.content

    async def test_files_are_cached_for_good_and_revalidate_by_etag(self, client, resources):
        await signed_in_member(client, resources)
        url = (await upload(client, factories.png())).json()["url"]
        served = await client.get(url)
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert served.headers["x-content-type-options"] == "nosniff"
        again = await client.get(url, headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert (await client.get("/photos/nothere-160.webp")).status_code == 404
        assert (await client.get("/photos/..%2Fsecret")).status_code == 404

    async def test_content_decides_not_the_name_or_declared_type(self, client, resources):
        await signed_in_member(client, resources)
        renamed_png = await upload(client, factories.png(), name="holiday.jpg",
                                   content_type="image/jpeg")
        assert renamed_png.status_code == 200
        text = await upload(client, b"just some words\n" * 20, name="holiday.jpg")
        assert text.status_code == 422
        assert text.json()["detail"] == ("This file is not a photo we can use: use a JPEG, "
                                         "PNG or WebP.")
        assert text.json()["fields"][0]["field"] == "photo"

    async def test_over_8_mb_is_413_with_a_plain_message(self, client, resources):
        await signed_in_member(client, resources)
        for size in (MAX_UPLOAD_BYTES + 1, MAX_UPLOAD_BYTES * 2):  # read, and refused unread
            response = await upload(client, b"\xff" * size)
            assert response.status_code == 413
            assert response.json()["detail"].startswith("This photo is larger than 8 MB.")
        assert await stored_names(resources) == set()

    async def test_a_decompression_bomb_is_refused(self, client, resources):
        await signed_in_member(client, resources)
        response = await upload(client, factories.bomb(), name="bomb.png")
        assert response.status_code == 422
        assert "too many pixels" in response.json()["detail"]


class TestWhoMay:
    async def test_nobody_can_replace_my_picture(self, client, resources):
        mine = await signed_in_member(client, resources)
        kept = (await upload(client, factories.png())).json()
        await signed_in_member(client, resources)
        response = await upload(client, factories.png(50, 50), path=f"/api/photos/profiles/{mine}")
        assert response.status_code == 403
        assert (await service.photo_of(resources, "profiles", mine)).url == kept["url"]
        removal = await client.delete(f"/api/photos/profiles/{mine}",
                                      headers=await csrf_headers(client))
        assert removal.status_code == 403
        assert (await client.get(kept["url"])).status_code == 200

    async def test_signed_out_is_401(self, client):
        response = await client.put(PICTURE, files={"photo": ("a.png", factories.png())},
                                    headers=await csrf_headers(client))
        assert response.status_code == 401


class TestReplaceAndDelete:
    async def test_replacing_deletes_the_old_files(self, client, resources):
        await signed_in_member(client, resources)
        old = (await upload(client, factories.png())).json()
        new = (await upload(client, factories.camera_jpeg())).json()
        assert {s["url"] for s in old["sizes"]}.isdisjoint({s["url"] for s in new["sizes"]})
        for size in old["sizes"]:
            assert (await client.get(size["url"])).status_code == 404
        assert await stored_names(resources) == {s["url"].rsplit("/", 1)[1]
                                                 for s in new["sizes"]}

    async def test_removing_deletes_the_files(self, client, resources):
        user_id = await signed_in_member(client, resources)
        photo = (await upload(client, factories.png())).json()
        removed = await client.delete(PICTURE, headers=await csrf_headers(client))
        assert removed.status_code == 204
        assert await service.photo_of(resources, "profiles", user_id) is None
        assert (await client.get(photo["url"])).status_code == 404
        again = await client.delete(PICTURE, headers=await csrf_headers(client))
        assert again.status_code == 404

    async def test_nothing_is_kept_for_an_account_deleted_meanwhile(self, resources):
        with pytest.raises(Unauthorized):
            await service.replace_photo(resources, kind="profiles", subject_id="gone",
                                        owner_id="gone", data=factories.png(), alt="",
                                        hold_account=account.hold_account)
        assert await resources.mongo.photos.count_documents({}) == 0
        assert await stored_names(resources) == set()

    async def test_account_deletion_removes_the_members_photos(self, client, resources):
        await signed_in_member(client, resources)
        other = (await upload(client, factories.png())).json()
        await signed_in_member(client, resources)
        theirs = (await upload(client, factories.png())).json()

        deleted = await client.delete("/api/account", headers=await csrf_headers(client))
        assert deleted.status_code == 204
        await relay.drain(resources)
        # The files outlive the photo only until the purge sweeps them (after its grace).
        assert await service.sweep(resources, datetime.now(UTC)) == 0
        assert await service.sweep(resources, datetime.now(UTC) + timedelta(hours=2)) == len(
            theirs["sizes"])
        for size in theirs["sizes"]:
            assert (await client.get(size["url"])).status_code == 404
        assert (await client.get(other["url"])).status_code == 200
