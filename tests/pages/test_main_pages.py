"""The main app's pages over HTTP, as a browser without JavaScript uses them."""

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from panamia.apps.main import create_app
from panamia.articles.documents import Status
from panamia.identity.models import User
from panamia.mail import DevOutbox
from panamia.profiles import service as profiles_service
from tests.articles.factories import create_article
from tests.fixtures.http import (
    BROWSER,
    asgi_client,
    csrf_token,
    form_token,
    signed_in_member,
    submit,
    text_of,
)
from tests.identity.factories import create_user, magic_link, press_sign_in, unique_email
from tests.notifications.factories import delivered, like
from tests.profiles.factories import create_member

PROFILE = {
    "name": "Café Luna", "bio": "Espresso & pastelitos", "categories": "Coffee, food",
    "location.city": "Miami", "location.state": "FL", "location.zip": "33135",
    "hours.monday.open": "09:00", "hours.monday.close": "17:00", "hours.sunday.closed": "on",
    "socialLinks.website": "https://example.org/luna",
    "socialLinks.customLinks.0.label": "Menu",
    "socialLinks.customLinks.0.url": "https://example.org/luna/menu", "active": "on",
}


class TestHome:
    async def test_shows_published_articles_and_listed_people_only(self, client, resources):
        author = await create_member(resources, screenname="rosa", name="Rosa", active=True)
        await create_member(resources, screenname="hidden", name="Hidden Person", active=False)
        await create_article(resources, author, title="Out in the open", status=Status.PUBLISHED)
        await create_article(resources, author, title="Still a draft")

        page = await client.get("/", headers=BROWSER)

        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        shown = text_of(page.text)
        assert "Out in the open" in shown and "Rosa" in shown
        assert "Still a draft" not in shown and "Hidden Person" not in shown
        assert "Sign in" in shown

    async def test_the_static_files_are_served(self, client):
        assert (await client.get("/static/site.css")).status_code == 200
        assert "screenname" in (await client.get("/static/site.js")).text


class TestSignIn:
    async def test_the_form_mails_a_link_that_signs_in(self, client, mailbox):
        email = unique_email("page")
        sent = await submit(client, "/signin", {"email": email, "callbackUrl": "/account"},
                            page="/signin")
        assert sent.status_code == 200
        assert "Check your mail" in sent.text and email in sent.text

        opened = await press_sign_in(client, magic_link(mailbox.to(email)[-1]))
        assert opened.status_code == 303
        assert opened.headers["location"] == "http://testserver/account"
        account = await client.get("/account", headers=BROWSER)
        assert account.status_code == 200 and email in account.text

    async def test_a_malformed_address_comes_back_with_what_was_typed(self, client):
        page = await submit(client, "/signin", {"email": "ana at home"}, page="/signin")
        assert page.status_code == 422
        assert 'value="ana at home"' in page.text
        assert "Enter an email address like name@example.org." in page.text

    async def test_a_used_link_lands_on_the_sign_in_page_for_browsers(self, client, mailbox):
        email = unique_email()
        await submit(client, "/signin", {"email": email}, page="/signin")
        link = magic_link(mailbox.to(email)[-1])
        await press_sign_in(client, link)
        again = await press_sign_in(client, link)
        assert again.status_code == 303
        landed = await client.get(again.headers["location"], headers=BROWSER)
        assert "invalid, expired or already used" in landed.text
        api_client = await client.get(link.removeprefix("http://testserver"),
                                      headers={"Accept": "application/json"})
        assert (api_client.status_code, api_client.json()["error"]) == (400, "Verification")

    async def test_signing_out_ends_the_session(self, client, resources):
        await signed_in_member(client, resources)
        out = await submit(client, "/signout", {})
        assert (out.status_code, out.headers["location"]) == (303, "/")
        home = await client.get("/", headers=BROWSER)
        assert "You are signed out" in home.text and ">Sign in<" in home.text

    async def test_the_dev_outbox_page_lists_links_only_where_the_outbox_is_used(
        self, client, resources, settings,
    ):
        assert (await client.get("/dev/outbox", headers=BROWSER)).status_code == 404
        dev = dataclasses.replace(resources, mailer=DevOutbox())
        async with asgi_client(create_app(settings, dev)) as dev_client:
            assert "dev outbox" in (await dev_client.get("/signin", headers=BROWSER)).text
            await submit(dev_client, "/signin", {"email": "ana@example.org"}, page="/signin")
            outbox = await dev_client.get("/dev/outbox", headers=BROWSER)
        assert "Open the sign-in link for ana@example.org" in outbox.text
        assert "/api/auth/callback/email?" in outbox.text


class TestCsrf:
    async def test_a_form_without_the_token_gets_a_readable_403(self, client, resources):
        await signed_in_member(client, resources)
        await form_token(client, "/account")
        response = await client.post("/account/profile", data={"name": "X"}, headers=BROWSER)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "reload the page" in response.text

    async def test_a_token_from_another_cookie_is_refused(self, client, resources):
        await signed_in_member(client, resources)
        await form_token(client, "/account")
        response = await client.post("/account/profile", headers=BROWSER,
                                     data={"name": "X", "csrfToken": "0" * 64})
        assert response.status_code == 403

    async def test_the_page_sets_the_cookie_its_token_matches(self, client):
        page = await client.get("/signin", headers=BROWSER)
        cookie = page.cookies["authjs.csrf-token"]
        assert cookie.startswith(csrf_token(page.text) + "|")


class TestAccount:
    async def test_signed_out_it_sends_you_to_sign_in_and_back(self, client):
        response = await client.get("/account", headers=BROWSER)
        assert response.status_code == 303
        target = urlsplit(response.headers["location"])
        assert target.path == "/signin"
        assert parse_qs(target.query)["callbackUrl"] == ["/account"]

    async def test_choosing_a_screenname_without_javascript(self, client, resources):
        await signed_in_member(client, resources)
        saved = await submit(client, "/account/screenname", {"screenname": "Luna_Cafe"},
                             page="/account")
        assert (saved.status_code, saved.headers["location"]) == (303, "/account")
        account = await client.get("/account", headers=BROWSER)
        assert "Your screenname is now @luna_cafe." in account.text
        assert "You are <strong>@luna_cafe</strong>" in account.text

    async def test_a_taken_screenname_keeps_what_was_typed(self, client, resources):
        await create_user(resources, screenname="taken_name")
        await signed_in_member(client, resources)
        page = await submit(client, "/account/screenname", {"screenname": "Taken_Name"},
                            page="/account")
        assert page.status_code == 409
        assert 'value="Taken_Name"' in page.text and "That screenname is taken." in page.text

    async def test_saving_the_profile_then_seeing_it_in_public(self, client, resources):
        await signed_in_member(client, resources, screenname="luna")
        saved = await submit(client, "/account/profile", PROFILE, page="/account")
        assert (saved.status_code, saved.headers["location"]) == (303, "/account")

        account = await client.get("/account", headers=BROWSER)
        assert "Your profile is saved." in account.text
        assert 'value="coffee, food"' in account.text
        assert 'name="hours.monday.open" value="9:00 AM"' in account.text
        assert 'name="hours.sunday.closed" value="on" checked' in account.text
        public = text_of((await client.get("/people/luna", headers=BROWSER)).text)
        assert "Café Luna" in public and "Monday 9:00 AM – 5:00 PM" in public
        assert "Sunday Closed" in public and "Menu" in public and "Tuesday Not given" in public

    async def test_a_bio_with_a_script_is_shown_as_text(self, client, resources):
        await signed_in_member(client, resources, screenname="mallory")
        bio = '<script>alert("hi")</script> & <b>bold</b>'
        await submit(client, "/account/profile", {"bio": bio, "active": "on"}, page="/account")
        public = await client.get("/people/mallory", headers=BROWSER)
        assert "<script>alert" not in public.text and "<b>bold" not in public.text
        assert "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in public.text

    async def test_errors_are_shown_beside_fields_and_nothing_typed_is_lost(
        self, client, resources,
    ):
        user_id = await signed_in_member(client, resources)
        typed = {**PROFILE, "hours.tuesday.open": "18:00", "hours.tuesday.close": "09:00",
                 "socialLinks.website": "example org", "socialLinks.customLinks.0.url": "",
                 "socialLinks.customLinks.1.label": "Shop",
                 "socialLinks.customLinks.1.url": "ftp://shop"}
        page = await submit(client, "/account/profile", typed, page="/account")

        assert page.status_code == 422
        for name, value in (("name", "Café Luna"), ("socialLinks.website", "example org"),
                            ("hours.tuesday.open", "18:00"),
                            ("socialLinks.customLinks.1.url", "ftp://shop")):
            assert f'name="{name}"' in page.text and f'value="{value}"' in page.text
        assert "Espresso &amp; pastelitos</textarea>" in page.text
        assert 'id="socialLinks.website-error">Enter a web address' in page.text
        assert 'id="hours.tuesday-error">The closing time must be after the opening time.' \
            in page.text
        assert 'id="socialLinks.customLinks.1.url-error">' in page.text
        assert 'id="socialLinks.customLinks.0.label-error">' not in page.text
        stored = await profiles_service.ensure_profile(resources, user_id)
        assert stored["name"] != "Café Luna"

    async def test_deleting_the_account_after_confirming(self, client, resources, connection):
        user_id = await signed_in_member(client, resources)
        confirm = await client.get("/account/delete", headers=BROWSER)
        assert "Yes, delete my account" in confirm.text
        deleted = await submit(client, "/account/delete", {}, page="/account/delete")
        assert (deleted.status_code, deleted.headers["location"]) == (303, "/")
        assert (await connection.execute(select(User).where(User.id == user_id))).first() is None
        assert "Your account is deleted." in (await client.get("/", headers=BROWSER)).text


class TestDirectory:
    async def test_search_category_and_paging(self, client, resources, monkeypatch):
        for screenname, name, categories in (("cafe1", "Café Uno", ["coffee"]),
                                             ("cafe2", "Café Dos", ["coffee"]),
                                             ("cafe3", "Café Tres", ["coffee", "music"]),
                                             ("bikes", "Bike Shop", ["repair"])):
            await create_member(resources, screenname=screenname, name=name,
                                categories=categories, active=True)
        monkeypatch.setattr(profiles_service, "DIRECTORY_PAGE_SIZE", 2)

        first = text_of((await client.get("/directory?q=cafe", headers=BROWSER)).text)
        assert "Café Dos" in first and "Café Tres" in first and "Bike Shop" not in first
        assert "Next →" in first
        second = text_of((await client.get("/directory?q=cafe&page=2", headers=BROWSER)).text)
        assert "Café Uno" in second and "← Previous" in second
        music = text_of((await client.get("/directory?category=Music", headers=BROWSER)).text)
        assert "Café Tres" in music and "Café Uno" not in music

    async def test_an_unknown_person_is_an_html_404(self, client):
        response = await client.get("/people/nobody_here", headers=BROWSER)
        assert response.status_code == 404
        assert "No public profile is named 'nobody_here'." in text_of(response.text)


class TestArticles:
    async def test_write_save_publish_and_find_it_listed(self, client, resources):
        await signed_in_member(client, resources, screenname="writer", name="Wri Ter")
        created = await submit(client, "/articles/new", {
            "title": "Mangoes in June", "excerpt": "Sweet.", "tags": "Food, summer",
            "body": "# Ripe\n\nEat them **outside**.",
        }, page="/articles/new")
        assert created.status_code == 303
        slug = created.headers["location"].removeprefix("/articles/")
        draft = await client.get(f"/articles/{slug}", headers=BROWSER)
        assert "Draft saved" in draft.text and "<strong>outside</strong>" in draft.text
        assert "Mangoes in June" not in (await client.get("/articles", headers=BROWSER)).text

        published = await submit(client, f"/articles/{slug}/publish", {}, page=f"/articles/{slug}")
        assert published.status_code == 303
        listed = text_of((await client.get("/articles", headers=BROWSER)).text)
        assert "Mangoes in June" in listed and "By Wri Ter" in listed

    async def test_the_body_is_sanitized(self, client, resources):
        author = await signed_in_member(client, resources, screenname="eve")
        body = ('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n'
                '[click](javascript:alert(3)) and [fine](https://example.org)')
        slug = await create_article(resources, author, title="Tricks", body=body,
                                    status=Status.PUBLISHED)
        page = (await client.get(f"/articles/{slug}", headers=BROWSER)).text
        prose = page[page.index('<div class="prose">'):]
        assert "<script" not in prose and "<img" not in prose
        assert 'href="javascript' not in prose
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in prose
        assert '<a href="https://example.org" rel="noopener noreferrer nofollow">fine</a>' in prose

    async def test_a_failed_edit_keeps_the_text(self, client, resources):
        author = await signed_in_member(client, resources)
        slug = await create_article(resources, author, title="Keep me")
        page = await submit(client, f"/articles/{slug}/edit",
                            {"title": "", "body": "A long paragraph I typed."},
                            page=f"/articles/{slug}/edit")
        assert page.status_code == 422
        assert "A long paragraph I typed.</textarea>" in page.text
        assert 'id="title-error">Fill this in.' in page.text

    async def test_someone_else_cannot_edit(self, client, resources):
        author = await create_member(resources, screenname="owner")
        slug = await create_article(resources, author, title="Mine", status=Status.PUBLISHED)
        await signed_in_member(client, resources)
        page = await client.get(f"/articles/{slug}", headers=BROWSER)
        assert "/edit" not in page.text
        refused = await client.get(f"/articles/{slug}/edit", headers=BROWSER)
        assert refused.status_code == 403 and "Only the author" in refused.text

    async def test_a_draft_is_a_404_for_others(self, client, resources):
        author = await create_member(resources)
        slug = await create_article(resources, author, title="Secret")
        response = await client.get(f"/articles/{slug}", headers=BROWSER)
        assert response.status_code == 404 and "Page not found" in response.text


class TestNotifications:
    async def test_listing_and_marking_read_updates_the_badge(self, client, resources):
        actor = await create_member(resources, screenname="fan", name="Big Fan")
        me = await signed_in_member(client, resources)
        first, _ = await delivered(resources, like(me, actor, summary="Mangoes in June"),
                                   like(me, actor, summary="Second post"))

        page = await client.get("/notifications", headers=BROWSER)
        shown = text_of(page.text)
        assert "Big Fan liked Mangoes in June" in shown and "2 unread" in shown

        marked = await submit(client, f"/notifications/{first}/read",
                              {"next": "/notifications"}, page="/notifications")
        assert (marked.status_code, marked.headers["location"]) == (303, "/notifications")
        assert "1 unread" in text_of((await client.get("/notifications", headers=BROWSER)).text)

        await submit(client, "/notifications/read-all", {}, page="/notifications")
        after = text_of((await client.get("/notifications", headers=BROWSER)).text)
        assert "Marked 1 as read." in after and "unread" not in after.replace("Show unread", "")

    async def test_the_next_page_after_marking_stays_on_this_site(self, client, resources):
        actor = await create_member(resources)
        me = await signed_in_member(client, resources)
        [one] = await delivered(resources, like(me, actor))
        response = await submit(client, f"/notifications/{one}/read",
                                {"next": "https://evil.example/"}, page="/notifications")
        assert response.headers["location"] == "/notifications"


class TestErrors:
    @pytest.mark.parametrize("path", ["/no/such/page", "/static/missing.css"])
    async def test_a_missing_page_is_html_for_browsers(self, client, path):
        response = await client.get(path, headers=BROWSER)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Page not found" in response.text

    async def test_api_clients_still_get_json(self, client):
        assert (await client.get("/no/such/page")).json()["error"] == "not found"
        api = await client.get("/api/no/such", headers=BROWSER)
        assert api.headers["content-type"].startswith("application/json")
        missing = await client.get("/api/profiles/nobody_here", headers=BROWSER)
        assert missing.json()["error"] == "profile not found"

    async def test_a_bad_query_value_is_a_readable_page(self, client):
        response = await client.get("/directory?page=zero", headers=BROWSER)
        assert response.status_code == 400 and "cannot use" in response.text
