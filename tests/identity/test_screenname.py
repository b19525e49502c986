import pytest
from sqlalchemy import select

from panamia import demo
from panamia.identity.models import User
from panamia.identity.screennames import screenname_skeleton
from tests.fixtures.http import submit, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as


async def put_screenname(client, name):
    return await client.put(
        "/api/user/screenname", json={"screenname": name}, headers=await csrf_headers(client)
    )


class TestCheck:
    @pytest.mark.parametrize("name, reason", [
        ("ab", "3 to 24"), ("a" * 25, "3 to 24"), ("has space", "3 to 24"),
        ("admin", "reserved"), ("PETS", "reserved"),
    ])
    async def test_names_that_cannot_be_used(self, client, name, reason):
        body = (await client.get("/api/user/screenname/check", params={"name": name})).json()
        assert body["available"] is False
        assert reason in body["reason"]

    async def test_a_taken_name_is_unavailable_in_any_case(self, client, resources):
        await create_user(resources, screenname="coffee_lover")
        body = (await client.get("/api/user/screenname/check",
                                 params={"name": "Coffee_Lover"})).json()
        assert body == {"available": False, "reason": "That name is taken."}

    async def test_a_free_name_is_available(self, client):
        body = (await client.get("/api/user/screenname/check", params={"name": "new_one"})).json()
        assert body == {"available": True, "reason": None}


class TestSet:
    async def test_a_signed_in_person_sets_their_screenname(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        response = await put_screenname(client, "Musician_305")
        assert response.status_code == 200
        assert response.json() == {"screenname": "musician_305"}
        session = (await client.get("/api/auth/session")).json()
        assert session["user"]["screenname"] == "musician_305"

    async def test_a_name_taken_in_another_case_is_409(self, client, resources):
        await create_user(resources, screenname="salsa")
        await sign_in_as(client, resources, await create_user(resources))
        response = await put_screenname(client, "SALSA")
        assert response.status_code == 409
        assert "taken" in response.json()["detail"]

    async def test_an_invalid_name_is_422_naming_the_field(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        response = await put_screenname(client, "no!")
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "screenname"

    async def test_signed_out_is_401(self, client):
        assert (await put_screenname(client, "someone")).status_code == 401


class TestLookAlikes:
    """A name that differs only by a trailing newline, an invisible character or a look-alike
    letter is the same name to a reader, so it is refused."""

    @pytest.mark.parametrize("name", ["admin\n", "adrnin", "he1p", "ADMIN\n"])
    async def test_reserved_names_cannot_be_reached_by_a_look_alike(self, client, resources,
                                                                   name):
        body = (await client.get("/api/user/screenname/check", params={"name": name})).json()
        assert body["available"] is False
        await sign_in_as(client, resources, await create_user(resources))
        response = await put_screenname(client, name)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["field"] == "screenname"

    @pytest.mark.parametrize("name, character", [
        ("ana\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE is not allowed"),
        ("a\u200bna", "U+200B ZERO WIDTH SPACE is not allowed"),
        ("marcobeats\n", "U+000A CONTROL CHARACTER is not allowed"),
    ])
    async def test_invisible_characters_are_named(self, client, resources, name, character):
        body = (await client.get("/api/user/screenname/check", params={"name": name})).json()
        assert body == {"available": False, "reason": character}
        await sign_in_as(client, resources, await create_user(resources))
        response = await put_screenname(client, name)
        assert response.status_code == 422
        assert response.json()["detail"] == character

    async def test_a_look_alike_of_a_taken_name_is_409(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        assert (await put_screenname(client, "marcobeats")).status_code == 200
        body = (await client.get("/api/user/screenname/check",
                                 params={"name": "rnarcobeats"})).json()
        assert body == {"available": False,
                        "reason": "That name is too similar to an existing one."}

        await sign_in_as(client, resources, await create_user(resources))
        for name, error in (("rnarcobeats", "screenname too similar"),
                            ("MarcoBeats", "screenname taken")):
            response = await put_screenname(client, name)
            assert response.status_code == 409, response.text
            assert response.json()["error"] == error
        assert (await client.get("/api/auth/session")).json()["user"]["screenname"] is None

    async def test_cyrillic_cannot_pose_as_a_latin_name(self, client, resources):
        await sign_in_as(client, resources, await create_user(resources))
        assert (await put_screenname(client, "pana")).status_code == 200
        cyrillic = "\u0440\u0430n\u0430"  # р а n а
        body = (await client.get("/api/user/screenname/check", params={"name": cyrillic})).json()
        assert body["available"] is False
        await sign_in_as(client, resources, await create_user(resources))
        assert (await put_screenname(client, cyrillic)).status_code == 422
        assert screenname_skeleton(cyrillic) == screenname_skeleton("pana")

    async def test_renaming_to_ones_own_look_alike_is_allowed(self, client, resources,
                                                             connection):
        user = await create_user(resources)
        await sign_in_as(client, resources, user)
        await put_screenname(client, "marco")
        assert (await put_screenname(client, "rnarco")).status_code == 200
        stored = (await connection.execute(
            select(User.screenname, User.screenname_skeleton).where(User.id == user)
        )).one()
        assert tuple(stored) == ("rnarco", screenname_skeleton("marco"))

    async def test_the_page_refuses_a_look_alike_and_a_trailing_newline(self, client,
                                                                       resources):
        await sign_in_as(client, resources, await create_user(resources))
        await put_screenname(client, "marcobeats")
        await sign_in_as(client, resources, await create_user(resources))
        for typed, message in (("marcobeats\n", "That screenname is taken."),
                               ("rnarcobeats", "That name is too similar to an existing one."),
                               ("ana\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE is not allowed")):
            page = await submit(client, "/account/screenname", {"screenname": typed},
                                page="/account/screenname")
            assert page.status_code in (409, 422)
            assert message in text_of(page.text)
        assert (await client.get("/api/auth/session")).json()["user"]["screenname"] is None

    async def test_demo_screennames_keep_their_look_alikes_away(self, client, resources):
        await demo.seed(resources)
        await sign_in_as(client, resources, await create_user(resources))
        response = await put_screenname(client, "rnarcobeats")
        assert (response.status_code, response.json()["error"]) == (409, "screenname too similar")
