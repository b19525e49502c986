import pytest

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
