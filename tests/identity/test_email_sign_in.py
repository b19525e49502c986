from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from panamia.identity.models import Session, User, VerificationToken
from tests.identity.factories import (
    csrf_headers,
    magic_link,
    press_sign_in,
    request_link,
    unique_email,
)

JSON = {"Accept": "application/json"}


async def open_link(client, mailbox, email):
    """As a person does: open the link in a browser and press the page's button."""
    return await press_sign_in(client, magic_link(mailbox.to(email)[-1]))


async def pending_links(connection, email) -> int:
    return len((await connection.execute(
        select(VerificationToken.token).where(VerificationToken.identifier == email)
    )).all())


class TestMagicLink:
    async def test_link_by_real_smtp_signs_in_and_creates_the_user(self, client, mailbox, connection):
        email = unique_email("ana")
        sent = await request_link(client, email.upper(), callbackUrl="/articles")
        assert sent.status_code == 200

        mail = mailbox.to(email)[-1]
        assert mail["Subject"] == "Sign in to Pana MIA"
        opened = await press_sign_in(client, magic_link(mail))

        assert opened.status_code == 303
        assert opened.headers["location"] == "http://testserver/articles"
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith("authjs.session-token=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        session = (await client.get("/api/auth/session")).json()
        assert session["user"]["email"] == email
        assert session["user"]["isAdmin"] is False
        user = (await connection.execute(select(User).where(User.email == email))).one()
        assert user.email_verified is not None

    async def test_known_and_unknown_addresses_get_the_same_answer(self, client, mailbox):
        known = unique_email()
        await request_link(client, known)
        await open_link(client, mailbox, known)
        first = await request_link(client, known)
        second = await request_link(client, unique_email("nobody"))
        assert (first.status_code, first.json()) == (second.status_code, second.json())

    async def test_a_link_works_once(self, client, mailbox):
        email = unique_email()
        await request_link(client, email)
        link = magic_link(mailbox.to(email)[-1]).removeprefix("http://testserver")
        assert (await client.get(link, headers=JSON)).status_code == 302
        again = await client.get(link, headers=JSON)
        assert again.status_code == 400
        assert "already used" in again.json()["detail"]

    async def test_an_expired_link_is_refused(self, client, mailbox, connection):
        email = unique_email()
        await request_link(client, email)
        await connection.execute(
            update(VerificationToken).where(VerificationToken.identifier == email)
            .values(expires=datetime.now(UTC) - timedelta(seconds=1))
        )
        refused = await open_link(client, mailbox, email)
        assert refused.headers["location"].startswith("/signin?error=link")
        assert (await client.get("/api/auth/session")).json() == {}

    async def test_the_token_is_stored_hashed(self, client, mailbox, connection):
        email = unique_email()
        await request_link(client, email)
        raw = parse_qs(urlsplit(magic_link(mailbox.to(email)[-1])).query)["token"][0]
        stored = (await connection.execute(
            select(VerificationToken.token).where(VerificationToken.identifier == email)
        )).scalar_one()
        assert stored != raw and raw not in stored

    async def test_a_second_sign_in_gets_a_new_session(self, client, mailbox, connection):
        email = unique_email()
        for _ in range(2):
            await request_link(client, email)
            await open_link(client, mailbox, email)
        user_id = (await client.get("/api/auth/session")).json()["user"]["id"]
        sessions = (await connection.execute(
            select(Session.id).where(Session.user_id == user_id)
        )).all()
        assert len(sessions) == 1


class TestLinkScanners:
    """Mail scanners open every link in a mail before the person does."""

    async def test_opening_the_link_spends_nothing(self, client, mailbox, connection):
        email = unique_email()
        await request_link(client, email)
        link = magic_link(mailbox.to(email)[-1]).removeprefix("http://testserver")

        for accept in ("text/html,application/xhtml+xml,*/*;q=0.8", "*/*", None):
            page = await client.get(link, headers={"Accept": accept} if accept else {})
            assert page.status_code == 200, accept
            assert not any("session-token" in c for c in page.headers.get_list("set-cookie"))
        assert await pending_links(connection, email) == 1
        assert (await client.get("/api/auth/session")).json() == {}

        signed_in = await press_sign_in(client, magic_link(mailbox.to(email)[-1]))
        assert signed_in.status_code == 303
        assert (await client.get("/api/auth/session")).json()["user"]["email"] == email
        assert await pending_links(connection, email) == 0

    async def test_the_page_passes_the_token_to_no_one(self, client, mailbox):
        email = unique_email()
        await request_link(client, email)
        link = magic_link(mailbox.to(email)[-1])
        page = await client.get(link.removeprefix("http://testserver"),
                                headers={"Accept": "text/html"})
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        token = parse_qs(urlsplit(link).query)["token"][0]
        assert page.text.count(token) == 1  # in the form only, in no link of the page

    async def test_the_button_needs_the_csrf_token(self, client, mailbox, connection):
        email = unique_email()
        await request_link(client, email)
        query = parse_qs(urlsplit(magic_link(mailbox.to(email)[-1])).query)
        fields = {"token": query["token"][0], "email": email}
        client.cookies.clear()

        response = await client.post("/api/auth/callback/email", data=fields)

        assert response.status_code == 403
        assert await pending_links(connection, email) == 1

    async def test_a_client_asking_for_json_is_signed_in_at_once(self, client, mailbox):
        email = unique_email()
        await request_link(client, email, callbackUrl="/articles")
        link = magic_link(mailbox.to(email)[-1]).removeprefix("http://testserver")
        opened = await client.get(link, headers=JSON)
        assert (opened.status_code, opened.headers["location"]) == (
            302, "http://testserver/articles")
        assert (await client.get("/api/auth/session")).json()["user"]["email"] == email


class TestRedirects:
    async def sign_in_with_callback(self, client, mailbox, callback_url):
        email = unique_email()
        await request_link(client, email, callbackUrl=callback_url)
        return (await open_link(client, mailbox, email)).headers["location"]

    async def test_another_site_is_refused(self, client, mailbox):
        for evil in ("https://evil.example/x", "//evil.example/x", "/\\evil.example",
                     "javascript:alert(1)", "http://testserver.evil.example/"):
            assert await self.sign_in_with_callback(client, mailbox, evil) == "http://testserver/"

    async def test_the_pets_sidecar_is_the_same_site(self, client, mailbox):
        target = "http://pets.testserver/bookings"
        assert await self.sign_in_with_callback(client, mailbox, target) == target


class TestInput:
    async def test_a_malformed_email_is_422_naming_the_field(self, client):
        for bad in ("not-an-email", "two@@example.org", '"quoted"@example.org', ""):
            response = await request_link(client, bad)
            assert response.status_code == 422, bad
            assert response.json()["fields"][0]["field"] == "email"

    async def test_a_missing_email_is_422_naming_the_field(self, client):
        response = await client.post("/api/auth/signin/email", json={},
                                     headers=await csrf_headers(client))
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "email"

    async def test_the_form_post_of_a_browser_works(self, client, mailbox):
        email = unique_email()
        token = (await csrf_headers(client))["X-CSRF-Token"]
        response = await client.post(
            "/api/auth/signin/email", data={"email": email, "csrfToken": token}
        )
        assert response.status_code == 200
        assert mailbox.to(email)


class TestCsrf:
    async def test_a_post_without_a_token_is_403(self, client):
        response = await client.post("/api/auth/signin/email", json={"email": unique_email()})
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]

    async def test_a_token_that_does_not_match_the_cookie_is_403(self, client):
        await csrf_headers(client)
        response = await client.post(
            "/api/auth/signin/email", json={"email": unique_email()},
            headers={"X-CSRF-Token": "0" * 64},
        )
        assert response.status_code == 403

    async def test_a_forged_cookie_is_403(self, client):
        client.cookies.set("authjs.csrf-token", "abc|def")
        response = await client.post(
            "/api/auth/signin/email", json={"email": unique_email()}, headers={"X-CSRF-Token": "abc"}
        )
        assert response.status_code == 403


class TestSignOut:
    async def test_sign_out_deletes_the_session(self, client, mailbox, connection):
        email = unique_email()
        await request_link(client, email)
        await open_link(client, mailbox, email)
        user_id = (await client.get("/api/auth/session")).json()["user"]["id"]

        response = await client.post("/api/auth/signout", headers=await csrf_headers(client))

        assert response.status_code == 200
        assert 'authjs.session-token=""' in response.headers["set-cookie"]
        remaining = (await connection.execute(
            select(Session.id).where(Session.user_id == user_id)
        )).all()
        assert remaining == []
        assert (await client.get("/api/auth/session")).json() == {}
