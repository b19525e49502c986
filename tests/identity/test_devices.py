"""A person's signed-in devices: the list, signing one out, signing out every other one."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from panamia.identity import devices, service
from panamia.identity.models import Session
from panamia.identity.tokens import session_token_hash
from tests.fixtures.http import BROWSER, asgi_client, submit, text_of
from tests.fixtures.resources import TEST_SECRET
from tests.identity.factories import (
    create_user,
    csrf_headers,
    magic_link,
    press_sign_in,
    sign_in_as,
    unique_email,
)

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


async def session_id_of(connection, token: str) -> str:
    return (await connection.execute(select(Session.id).where(
        Session.session_token == session_token_hash(token, TEST_SECRET)))).scalar_one()


async def listed(client) -> list[dict]:
    response = await client.get("/api/account/sessions")
    assert response.status_code == 200, response.text
    return response.json()


async def signed_in(client) -> bool:
    return "user" in (await client.get("/api/auth/session")).json()


class TestList:
    async def test_an_email_sign_in_lists_the_device_it_came_from(self, client, mailbox):
        email = unique_email()
        await client.post("/api/auth/signin/email", json={"email": email},
                          headers=await csrf_headers(client))
        client.headers["User-Agent"] = FIREFOX
        await press_sign_in(client, magic_link(mailbox.to(email)[-1]))

        [device] = await listed(client)

        assert device["device"] == "Firefox 128 on Windows"
        assert device["userAgent"] == FIREFOX
        assert device["current"] is True
        assert device["createdAt"] and device["lastSeenAt"] and device["expires"]

    async def test_the_list_names_sessions_by_id_never_by_token(
        self, client, resources, connection
    ):
        user_id = await create_user(resources)
        token = await sign_in_as(client, resources, user_id)
        response = await client.get("/api/account/sessions")
        assert response.json()[0]["id"] == await session_id_of(connection, token)
        for secret in (token, session_token_hash(token, TEST_SECRET)):
            assert secret not in response.text

    async def test_only_my_valid_sessions_are_listed(
        self, client, resources, main_app, connection
    ):
        me, someone = await create_user(resources), await create_user(resources)
        await sign_in_as(client, resources, me)
        async with asgi_client(main_app) as other:
            await sign_in_as(other, resources, someone)
            ended = await sign_in_as(other, resources, me)
        await connection.execute(
            update(Session).where(Session.id == await session_id_of(connection, ended))
            .values(expires=datetime.now(UTC) - timedelta(seconds=1))
        )
        assert len(await listed(client)) == 1

    async def test_a_long_user_agent_is_cut(self, resources, connection):
        user_id = await create_user(resources)
        async with resources.db.begin() as db:
            await service.start_session(db, resources, user_id, "x" * 5000 + "\x00\n")
        stored = (await connection.execute(
            select(Session.user_agent).where(Session.user_id == user_id))).scalar_one()
        assert stored == "x" * 256


class TestSignOutOneDevice:
    async def test_another_device_of_mine_is_signed_out(
        self, client, resources, main_app, connection
    ):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        async with asgi_client(main_app) as phone:
            phone_token = await sign_in_as(phone, resources, user_id)
            phone_id = await session_id_of(connection, phone_token)

            response = await client.delete(f"/api/account/sessions/{phone_id}",
                                           headers=await csrf_headers(client))

            assert response.status_code == 204
            assert not await signed_in(phone)
        assert await signed_in(client)

    async def test_another_persons_session_is_404_and_stays(
        self, client, resources, main_app, connection
    ):
        await sign_in_as(client, resources, await create_user(resources))
        async with asgi_client(main_app) as stranger:
            theirs = await session_id_of(
                connection, await sign_in_as(stranger, resources, await create_user(resources)))

            response = await client.delete(f"/api/account/sessions/{theirs}",
                                           headers=await csrf_headers(client))

            assert response.status_code == 404
            assert response.json()["error"] == "not found"
            assert await signed_in(stranger)

    async def test_ending_this_device_signs_me_out_here(self, client, resources, connection):
        token = await sign_in_as(client, resources, await create_user(resources))
        response = await client.delete(
            f"/api/account/sessions/{await session_id_of(connection, token)}",
            headers=await csrf_headers(client))
        assert response.status_code == 204
        assert 'authjs.session-token=""' in response.headers["set-cookie"]
        assert not await signed_in(client)

    async def test_signed_out_is_401(self, client):
        response = await client.delete("/api/account/sessions/abc",
                                       headers=await csrf_headers(client))
        assert response.status_code == 401


class TestSignOutEverywhere:
    async def test_every_other_device_of_mine_is_signed_out(self, client, resources, main_app):
        me, someone = await create_user(resources), await create_user(resources)
        await sign_in_as(client, resources, me)
        async with asgi_client(main_app) as laptop, asgi_client(main_app) as stranger:
            await sign_in_as(laptop, resources, me)
            await sign_in_as(stranger, resources, someone)
            async with resources.db.begin() as db:
                await service.start_session(db, resources, me, IPHONE)

            response = await client.delete("/api/account/sessions/others",
                                           headers=await csrf_headers(client))

            assert response.json() == {"ended": 2}
            assert not await signed_in(laptop)
            assert await signed_in(stranger)
        assert await signed_in(client)
        assert [d["current"] for d in await listed(client)] == [True]

    async def test_without_an_exception_every_session_ends(self, client, resources):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        assert await devices.sign_out_everywhere(resources, user_id) == 1
        assert not await signed_in(client)


class TestDevicesPage:
    async def test_the_account_page_leads_to_the_list(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        account = await client.get("/account", headers=BROWSER)
        assert 'href="/account/sessions"' in account.text

    async def test_the_page_lists_devices_and_signs_one_out(self, client, resources, connection):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        async with resources.db.begin() as db:
            phone = await service.start_session(db, resources, user_id, IPHONE)
        phone_id = await session_id_of(connection, phone.token)

        page = text_of((await client.get("/account/sessions", headers=BROWSER)).text)
        assert "Mobile Safari 17 on iOS" in page and "This device" in page

        ended = await submit(client, f"/account/sessions/{phone_id}/end", {},
                             page="/account/sessions")
        assert (ended.status_code, ended.headers["location"]) == (303, "/account/sessions")
        page = text_of((await client.get("/account/sessions", headers=BROWSER)).text)
        assert "That device is signed out." in page
        assert "Mobile Safari" not in page

    async def test_sign_out_every_other_device_from_the_page(self, client, resources):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        async with resources.db.begin() as db:
            await service.start_session(db, resources, user_id, IPHONE)
        await submit(client, "/account/sessions/others/end", {}, page="/account/sessions")
        page = text_of((await client.get("/account/sessions", headers=BROWSER)).text)
        assert "Signed out of 1 other device." in page
        assert "Mobile Safari" not in page

    async def test_signed_out_goes_to_sign_in(self, client):
        response = await client.get("/account/sessions", headers=BROWSER)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")
