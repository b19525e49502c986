"""An article's cover and a listing's photo: who may change them, and where they show."""

import re

from panamia.articles.documents import Status
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, signed_in_member
from tests.identity.factories import create_user, csrf_headers
from tests.pets.factories import act_as, create_listing
from tests.photos import factories


def photo_files(http, path: str, data: bytes, headers: dict, alt: str = ""):
    return http.put(path, files={"photo": ("photo.png", data, "image/png")},
                    data={"alt": alt}, headers=headers)


class TestArticleCover:
    async def test_writers_set_it_and_readers_see_it(self, client, resources):
        author = await signed_in_member(client, resources)
        slug = await create_article(resources, author, status=Status.PUBLISHED,
                                    title="Calle Ocho at dawn")
        sent = await photo_files(client, f"/api/photos/articles/{slug}",
                                 factories.camera_jpeg(), await csrf_headers(client),
                                 alt="The street, empty")
        assert sent.status_code == 200, sent.text
        page = (await client.get(f"/articles/{slug}", headers=BROWSER)).text
        assert re.search(r'<img class="photo cover" src="/photos/\S+-1000\.webp"', page)
        assert 'alt="The street, empty"' in page
        listed = (await client.get("/articles", headers=BROWSER)).text
        assert 'class="photo cover-thumb"' in listed

    async def test_others_are_refused_and_drafts_stay_hidden(self, client, resources):
        author = await create_user(resources)
        published = await create_article(resources, author, status=Status.PUBLISHED)
        draft = await create_article(resources, author)
        await signed_in_member(client, resources)
        headers = await csrf_headers(client)
        refused = await photo_files(client, f"/api/photos/articles/{published}",
                                    factories.png(), headers)
        assert refused.status_code == 403
        hidden = await photo_files(client, f"/api/photos/articles/{draft}", factories.png(),
                                   headers)
        assert hidden.status_code == 404
        assert await resources.mongo.photos.count_documents({}) == 0


class TestListingPhoto:
    async def test_the_sitter_sets_it_on_the_pets_service(self, client, pets, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)
        sent = await photo_files(pets, f"/api/photos/listings/{listing.id}", factories.png(),
                                 headers, alt="The garden")
        assert sent.status_code == 200, sent.text
        served = await pets.get(sent.json()["url"])
        assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
        page = (await pets.get(f"/listings/{listing.id}", headers=BROWSER)).text
        assert 'alt="The garden"' in page and "Change the photo" in page
        card = (await pets.get("/", headers=BROWSER)).text
        assert 'alt="The garden"' in card

    async def test_someone_else_is_refused(self, client, pets, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, await create_user(resources))
        refused = await photo_files(pets, f"/api/photos/listings/{listing.id}",
                                    factories.png(), headers)
        assert refused.status_code == 403
        missing = await photo_files(pets, "/api/photos/listings/nosuchlisting",
                                    factories.png(), headers)
        assert missing.status_code == 404


class TestSeeing:
    async def test_a_profile_picture_is_public_with_its_profile(self, client, resources):
        member = await signed_in_member(client, resources)
        await photo_files(client, "/api/photos/profiles/me", factories.png(),
                          await csrf_headers(client), alt="Me")
        assert (await client.get("/api/photos/profiles/me")).json()["alt"] == "Me"
        await client.get("/api/profile")  # made on first sight, not yet public
        client.cookies.clear()
        assert (await client.get(f"/api/photos/profiles/{member}")).status_code == 404
        await resources.mongo.profiles.update_one({"userId": member}, {"$set": {"active": True}})
        assert (await client.get(f"/api/photos/profiles/{member}")).json()["alt"] == "Me"

    async def test_a_drafts_cover_only_for_those_who_see_the_draft(self, client, resources):
        author = await signed_in_member(client, resources)
        draft = await create_article(resources, author)
        await photo_files(client, f"/api/photos/articles/{draft}", factories.png(),
                          await csrf_headers(client))
        assert (await client.get(f"/api/photos/articles/{draft}")).status_code == 200
        await signed_in_member(client, resources)
        assert (await client.get(f"/api/photos/articles/{draft}")).status_code == 404

    async def test_a_listing_photo_is_public_and_none_is_404(self, client, pets, resources):
        listing = await create_listing(resources)
        headers = await act_as(pets, client, resources, listing.sitter_id)
        assert (await pets.get(f"/api/photos/listings/{listing.id}")).status_code == 404
        await photo_files(pets, f"/api/photos/listings/{listing.id}", factories.png(), headers)
        pets.cookies.clear()
        assert (await pets.get(f"/api/photos/listings/{listing.id}")).status_code == 200
