from sqlalchemy import func, select

from panamia.identity.models import Account, Session, User
from panamia.outbox import relay
from panamia.outbox.models import OutboxEvent
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.notifications.factories import delivered, like
from tests.pets.factories import create_listing, insert_booking


async def count(connection, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return (await connection.execute(query)).scalar_one()


async def add_content(resources, ana: str, ben: str) -> None:
    """Ana's profile and articles (one of them co-authored with Ben), as raw documents."""
    mongo = resources.mongo
    await mongo.profiles.insert_many([{"userId": ana, "name": "Ana"},
                                      {"userId": ben, "name": "Ben"}])
    await mongo.articles.insert_many([
        {"slug": "by-ana", "authorId": ana, "coAuthorIds": []},
        {"slug": "by-ben-with-ana", "authorId": ben, "coAuthorIds": [ana]},
    ])


class TestDeleteAccount:
    async def test_the_user_goes_now_and_their_content_after_the_relay(
        self, client, resources, connection
    ):
        ana, ben = await create_user(resources), await create_user(resources)
        await connection.execute(Account.__table__.insert().values(
            user_id=ana, type="oauth", provider="github", provider_account_id=ana))
        await add_content(resources, ana, ben)
        to_ana, from_ana = await delivered(resources, like(ana, ben), like(ben, ana))
        token = await sign_in_as(client, resources, ana)
        headers = await csrf_headers(client)

        response = await client.delete("/api/account", headers=headers)

        assert response.status_code == 204
        assert 'authjs.session-token=""' in response.headers["set-cookie"]
        assert await count(connection, User, id=ana) == 0
        assert await count(connection, Session, user_id=ana) == 0
        assert await count(connection, Account, user_id=ana) == 0
        assert await count(connection, OutboxEvent, topic="user.deleted") == 1
        client.cookies.set("authjs.session-token", token)
        assert (await client.get("/api/auth/session")).json() == {}

        assert (await relay.drain(resources)).delivered == 1

        mongo = resources.mongo
        assert [p["userId"] for p in await mongo.profiles.find().to_list()] == [ben]
        assert await mongo.notifications.find_one({"_id": to_ana}) is None
        kept = await mongo.notifications.find_one({"_id": from_ana})
        assert kept["actorId"] == ana and kept["targetId"] == ben
        slugs = sorted(a["slug"] for a in await mongo.articles.find().to_list())
        assert slugs == ["by-ana", "by-ben-with-ana"]

    async def test_the_other_users_are_untouched(self, client, resources, connection):
        ana, ben = await create_user(resources), await create_user(resources)
        await add_content(resources, ana, ben)
        await sign_in_as(client, resources, ana)
        await sign_in_as(client, resources, ben)

        assert (await client.delete("/api/account",
                                    headers=await csrf_headers(client))).status_code == 204
        await relay.drain(resources)

        assert await count(connection, User, id=ana) == 1
        assert await count(connection, Session, user_id=ana) == 1
        assert [p["userId"] for p in await resources.mongo.profiles.find().to_list()] == [ana]

    async def test_needs_a_session_and_the_csrf_token(self, client, resources, connection):
        assert (await client.delete("/api/account",
                                    headers=await csrf_headers(client))).status_code == 401
        ana = await create_user(resources)
        await sign_in_as(client, resources, ana)
        assert (await client.delete("/api/account")).status_code == 403
        assert await count(connection, User, id=ana) == 1

    async def test_deletion_works_while_mongodb_is_down(self, client, resources, connection):
        """Only PostgreSQL is written; the relay removes the content once MongoDB answers
        (tests/outbox/test_mongodb_down.py restarts a real server)."""
        ana = await create_user(resources)
        await sign_in_as(client, resources, ana)
        headers = await csrf_headers(client)
        resources.mongo = None  # any use of MongoDB would fail loudly

        assert (await client.delete("/api/account", headers=headers)).status_code == 204
        assert await count(connection, OutboxEvent, topic="user.deleted") == 1


class TestActiveBookingsKeepTheAccount:
    async def delete_as(self, client, resources, user_id):
        await sign_in_as(client, resources, user_id)
        return await client.delete("/api/account", headers=await csrf_headers(client))

    async def test_an_owner_with_a_confirmed_booking_gets_409(self, client, resources, connection):
        owner = await create_user(resources)
        await insert_booking(resources, await create_listing(resources), owner_id=owner)
        response = await self.delete_as(client, resources, owner)
        assert response.status_code == 409
        assert "bookings" in response.json()["detail"]
        assert await count(connection, User, id=owner) == 1

    async def test_a_sitter_with_a_pending_request_gets_409(self, client, resources, connection):
        listing = await create_listing(resources)
        await insert_booking(resources, listing, status="pending")
        assert (await self.delete_as(client, resources, listing.sitter_id)).status_code == 409

    async def test_finished_bookings_do_not_hold_the_account(self, client, resources, connection):
        owner = await create_user(resources)
        listing = await create_listing(resources)
        await insert_booking(resources, listing, owner_id=owner, status="completed")
        await insert_booking(resources, listing, owner_id=owner, status="cancelled")
        assert (await self.delete_as(client, resources, owner)).status_code == 204
        assert await count(connection, User, id=owner) == 0
