"""The profile picture through the pages, as a browser without JavaScript sends it."""

import re

import pytest

from panamia.profiles.photo import PICTURE
from tests.fixtures.http import BROWSER, form_token, signed_in_member, text_of
from tests.photos import factories


async def send_photo(client, data: bytes, *, alt: str = "", name: str = "me.jpg"):
    token = await form_token(client, "/photos/profiles/me")
    return await client.post("/photos/profiles/me", headers=BROWSER,
                             data={"csrfToken": token, "alt": alt},
                             files={"photo": (name, data, "application/octet-stream")})


class TestProfilePicturePage:
    async def test_the_picture_shows_on_the_profile_and_the_directory(self, client, resources):
        await signed_in_member(client, resources, screenname="luna", name="Luna")
        await client.patch("/api/profile", json={"active": True},
                           headers={"X-CSRF-Token": await form_token(client, "/account")})
        sent = await send_photo(client, factories.camera_jpeg(), alt="Luna at her stall")
        assert sent.status_code == 303 and sent.headers["location"] == "/account"

        person = (await client.get("/people/luna", headers=BROWSER)).text
        image = re.search(r'<img class="avatar avatar-160"[^>]*>', person).group(0)
        assert 'alt="Luna at her stall"' in image and 'loading="lazy"' in image
        assert re.search(r'srcset="/photos/\S+-160\.webp 160w, \S+-480\.webp 480w, '
                         r'\S+-1000\.webp 1000w"', image)
        assert 'sizes="160px"' in image and 'width="160" height="320"' in image
        src = re.search(r'src="([^"]+)"', image).group(1)
        assert (await client.get(src)).status_code == 200
        directory = (await client.get("/directory", headers=BROWSER)).text
        assert 'class="avatar avatar-48"' in directory

    async def test_a_file_that_is_not_a_photo_is_explained_beside_the_field(self, client,
                                                                          resources):
        await signed_in_member(client, resources)
        sent = await send_photo(client, b"%PDF-1.7 a document", name="cv.jpg")
        assert sent.status_code == 422
        page = text_of(sent.text)
        assert "This file is not a photo we can use: use a JPEG, PNG or WebP." in page
        assert 'id="photo-error"' in sent.text and 'aria-invalid="true"' in sent.text

    async def test_nothing_chosen_asks_for_a_photo(self, client, resources):
        await signed_in_member(client, resources)
        token = await form_token(client, "/photos/profiles/me")
        sent = await client.post("/photos/profiles/me", headers=BROWSER,
                                 data={"csrfToken": token, "alt": ""},
                                 files={"photo": ("", b"", "application/octet-stream")})
        assert sent.status_code == 422
        assert "Choose a photo to upload." in text_of(sent.text)

    async def test_removing_the_picture(self, client, resources):
        await signed_in_member(client, resources)
        await send_photo(client, factories.png())
        assert "Change your profile picture" in text_of(
            (await client.get("/account", headers=BROWSER)).text)
        token = await form_token(client, "/photos/profiles/me")
        removed = await client.post("/photos/profiles/me/remove", headers=BROWSER,
                                    data={"csrfToken": token})
        assert removed.status_code == 303
        assert "Add a profile picture" in text_of(
            (await client.get("/account", headers=BROWSER)).text)

    @pytest.mark.parametrize(("alt", "message"), [
        ("x" * 301, "Use at most 300 characters; this has 301."),
        ("Luna\u202e", "Write the description on one line, without hidden characters"),
        ("two\nlines", "Write the description on one line"),
        ("nul\x00", "Write the description on one line"),
    ])
    async def test_a_description_that_cannot_be_shown_is_explained(self, client, resources, alt,
                                                                   message):
        user_id = await signed_in_member(client, resources)
        sent = await send_photo(client, factories.png(), alt=alt)
        assert sent.status_code == 422
        assert 'id="alt-error"' in sent.text and message in text_of(sent.text)
        assert await PICTURE.photo(resources, user_id) is None

    async def test_a_phones_largest_photo_is_refused_beside_the_field(self, client, resources):
        await signed_in_member(client, resources)
        sent = await send_photo(client, b"\xff" * (25 * 1024 * 1024))
        assert sent.status_code == 413
        assert 'id="photo-error"' in sent.text
        assert "This photo is larger than 8 MB." in text_of(sent.text)
