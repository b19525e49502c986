"""Input that once answered 500 answers 4xx with the error envelope, and changes nothing.

CSRF tokens with non-ASCII characters (header, form, JSON body, cookie), JSON nested past
Python's parser, a URL with an unclosed IPv6 bracket, NaN and Infinity in a profile's
`extra`, and bodies over MAX_BODY_BYTES. Dates at the calendar's edges are in
tests/pets/test_date_window.py.
"""

import json
from datetime import timedelta

import httpx
import pytest

from panamia.apps.main import create_app
from tests.fixtures.http import BROWSER, asgi_client, csrf_token
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.pets.bookings.factories import FIRST_NIGHT, body as booking_body
from tests.pets.factories import act_as, create_listing
from tests.pets.listings.test_listings import BODY as LISTING

NON_ASCII = "é".encode()  # a header carries bytes; Starlette reads them as Latin-1 text
CSRF_COOKIE = "authjs.csrf-token"


def envelope(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert {"error", "detail"} <= body.keys()
    return body


async def own_bio(client) -> str:
    return (await client.get("/api/profile")).json()["profile"]["bio"]


@pytest.fixture
async def member(client, resources) -> dict[str, str]:
    """`client` signed in, holding a CSRF cookie; returns the CSRF header."""
    await sign_in_as(client, resources, await create_user(resources))
    return await csrf_headers(client)


class TestCsrfTokenWithNonAsciiCharacters:
    async def test_in_the_header_is_a_csrf_refusal(self, client, member):
        response = await client.patch("/api/profile", json={"bio": "changed"},
                                      headers={"X-CSRF-Token": member["X-CSRF-Token"][:-1]
                                               .encode() + NON_ASCII})
        assert envelope(response, 403)["error"] == "csrf"
        assert await own_bio(client) == ""

    async def test_in_a_form_is_a_csrf_refusal(self, client, member):
        response = await client.post("/api/auth/signout", data={"csrfToken": "é" * 64})
        assert envelope(response, 403)["error"] == "csrf"
        assert (await client.get("/api/auth/session")).json() != {}

    async def test_in_a_json_body_is_a_csrf_refusal(self, client, member):
        lone_surrogates = json.dumps({"bio": "changed", "csrfToken": "\ud800" * 64})
        response = await client.patch("/api/profile", content=lone_surrogates,
                                      headers={"content-type": "application/json"})
        assert envelope(response, 403)["error"] == "csrf"

    async def test_in_the_cookie_pages_still_open_with_a_fresh_cookie(self, client):
        broken = f"{CSRF_COOKIE}=abc|".encode() + NON_ASCII * 32
        page = await client.get("/signin", headers={"cookie": broken, **BROWSER})
        assert page.status_code == 200
        token = csrf_token(page.text)
        assert page.cookies[CSRF_COOKIE].startswith(f"{token}|")

        answer = await client.get("/api/auth/csrf", headers={"cookie": broken})
        assert answer.status_code == 200
        assert answer.cookies[CSRF_COOKIE].startswith(f"{answer.json()['csrfToken']}|")

    async def test_in_the_cookie_a_post_is_a_csrf_refusal(self, client, member):
        session = "; ".join(f"{k}={v}" for k, v in client.cookies.items() if k != CSRF_COOKIE)
        broken = f"{session}; {CSRF_COOKIE}=abc|".encode() + NON_ASCII * 32
        response = await client.patch("/api/profile", json={"bio": "changed"},
                                      headers={**member, "cookie": broken})
        assert envelope(response, 403)["error"] == "csrf"
        assert await own_bio(client) == ""


class TestCsrfTokenInJsonBodies:
    """Auth.js clients put `csrfToken` in the JSON bodies they send: strict bodies take it
    (without the header) and drop it, instead of refusing it as an unknown field."""

    async def test_a_profile_change(self, client, member):
        response = await client.patch("/api/profile", json={
            "bio": "Baker", "csrfToken": member["X-CSRF-Token"]})
        assert response.status_code == 200, response.text
        assert await own_bio(client) == "Baker"

    async def test_a_new_article(self, client, member):
        response = await client.post("/api/articles", json={
            "title": "Fresh bread", "csrfToken": member["X-CSRF-Token"]})
        assert response.status_code == 201, response.text
        assert "csrfToken" not in response.json()

    async def test_a_listing_a_blackout_and_a_booking(self, pets, client, resources):
        sitter = await act_as(pets, client, resources, await create_user(resources))
        listing = await pets.post("/listings", json={
            **LISTING, "csrfToken": sitter["X-CSRF-Token"]})
        assert listing.status_code == 201, listing.text
        nights = {"startDate": FIRST_NIGHT.isoformat(),
                  "endDate": (FIRST_NIGHT + timedelta(days=2)).isoformat()}
        blackout = await pets.post(f"/listings/{listing.json()['id']}/blackouts", json={
            **nights, "csrfToken": sitter["X-CSRF-Token"]})
        assert blackout.status_code == 201, blackout.text

        owner = await act_as(pets, client, resources, await create_user(resources))
        booking = await pets.post("/bookings", json={
            **booking_body((await create_listing(resources)).id),
            "csrfToken": owner["X-CSRF-Token"]})
        assert booking.status_code == 201, booking.text

    async def test_a_wrong_token_in_the_body_is_still_refused(self, client, member):
        response = await client.patch("/api/profile", json={"bio": "x", "csrfToken": "0" * 64})
        assert envelope(response, 403)["error"] == "csrf"


class TestDeeplyNestedJson:
    DEEP = b"[" * 100_000

    @pytest.mark.parametrize(("method", "path"), [
        ("PATCH", "/api/profile"), ("POST", "/api/auth/signin/email"),
        ("POST", "/api/articles"),
    ])
    async def test_is_a_422_naming_the_body(self, client, member, method, path):
        response = await client.request(method, path, content=self.DEEP, headers={
            **member, "content-type": "application/json"})
        assert envelope(response, 422)["fields"] == [
            {"field": "body", "message": "The request cannot be read: it is not well-formed."}]

    async def test_without_the_csrf_header_is_a_csrf_refusal(self, client, member):
        response = await client.post("/api/auth/signout", content=self.DEEP,
                                     headers={"content-type": "application/json"})
        assert envelope(response, 403)["error"] == "csrf"


class TestProfileFields:
    async def test_a_url_with_an_unclosed_ipv6_bracket_is_422(self, client, member):
        response = await client.patch("/api/profile", headers=member,
                                      json={"socialLinks": {"website": "http://[x"}})
        assert envelope(response, 422)["fields"][0]["field"] == "socialLinks.website"

    @pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
    async def test_extra_refuses_numbers_json_does_not_have(self, client, member, number):
        response = await client.patch(
            "/api/profile", content=f'{{"extra": {{"rating": {number}}}}}',
            headers={**member, "content-type": "application/json"})
        fields = envelope(response, 422)["fields"]
        assert fields[0]["field"].startswith("extra.rating")
        assert fields[0]["message"] == "Enter a number, like 35."
        assert (await client.get("/api/profile")).json()["profile"]["extra"] == {}

    @pytest.mark.parametrize(("field", "patch"), [
        ("location.zip", {"location": {"zip": "\u0661\u0662\u0663\u0664\u0665"}}),
        ("hours.monday.open", {"hours": {"monday": {"open": "0\u0669:00", "close": "17:00"}}}),
    ])
    async def test_digits_of_other_scripts_are_not_numbers_here(self, client, member, field,
                                                               patch):
        response = await client.patch("/api/profile", headers=member, json=patch)
        assert envelope(response, 422)["fields"][0]["field"] == field


@pytest.fixture
async def small_limit_client(settings, resources):
    async with asgi_client(create_app(settings.model_copy(update={"max_body_bytes": 4096}),
                                      resources)) as client:
        yield client


class TestBodySize:
    async def test_a_declared_length_over_the_limit_is_refused_before_anything_runs(
        self, small_limit_client, resources
    ):
        client = small_limit_client
        await sign_in_as(client, resources, await create_user(resources))
        headers = await csrf_headers(client)
        response = await client.post("/api/auth/signout", headers=headers, content=b"x" * 5000)
        body = envelope(response, 413)
        assert body["error"] == "content too large" and "4096" in body["detail"]
        assert (await client.get("/api/auth/session")).json() != {}  # still signed in

    async def test_a_chunked_body_is_cut_off_at_the_limit(self, small_limit_client, resources):
        client = small_limit_client
        await sign_in_as(client, resources, await create_user(resources))
        headers = await csrf_headers(client)
        read = 0

        async def chunks():
            nonlocal read
            yield b'{"bio": "'
            for _ in range(100):
                read += 1024
                yield b"x" * 1024

        response = await client.patch("/api/profile", content=chunks(), headers={
            **headers, "content-type": "application/json"})
        assert envelope(response, 413)["error"] == "content too large"
        assert read <= 6 * 1024  # stopped reading soon after the limit
        assert await own_bio(client) == ""

    async def test_a_form_over_the_limit_is_a_page_saying_so(self, small_limit_client,
                                                              resources):
        client = small_limit_client
        await sign_in_as(client, resources, await create_user(resources))
        token = csrf_token((await client.get("/account", headers=BROWSER)).text)

        async def form():
            yield f"csrfToken={token}&bio=".encode()
            for _ in range(10):
                yield b"x" * 1024

        response = await client.post("/account/profile", content=form(), headers={
            **BROWSER, "content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413
        assert "text/html" in response.headers["content-type"]

    async def test_the_default_limit_is_one_mebibyte(self, client, member):
        at_limit = await client.patch("/api/profile", headers={
            **member, "content-type": "application/json"},
            content=json.dumps({"bio": "x"}).encode().ljust(1024 * 1024))
        over = await client.patch("/api/profile", headers={
            **member, "content-type": "application/json"},
            content=json.dumps({"bio": "x"}).encode().ljust(1024 * 1024 + 1))
        assert at_limit.status_code == 200, at_limit.text
        assert envelope(over, 413)["error"] == "content too large"
