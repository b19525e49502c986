"""Naming a co-author invites them: they show as co-author only after accepting, may decline,
and may leave at any time."""

import pytest
from sqlalchemy import delete

from panamia import demo
from panamia.articles import invitations, service
from panamia.articles.permissions import Action
from panamia.articles.documents import ArticleDocument
from panamia.errors import Conflict
from panamia.identity.models import User
from panamia.outbox import relay
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.profiles.factories import principal


async def signed_in(client, resources, user_id: str) -> dict:
    await sign_in_as(client, resources, user_id)
    return await csrf_headers(client)


async def notices(resources, user_id: str) -> list[tuple[str, str | None, dict]]:
    """What `user_id` was told, once the relay has run: (type, actor, object)."""
    await relay.drain(resources)
    found = resources.mongo.notifications.find({"targetId": user_id}).sort("createdAt", 1)
    return [(n["type"], n["actorId"], n["object"]) for n in await found.to_list()]


def ids(people: list[dict]) -> list[str]:
    return [p["id"] for p in people]


class TestInviting:
    async def test_naming_someone_invites_them_and_gives_no_rights(self, client, resources):
        ana, bea = await create_user(resources), await create_user(resources)
        csrf = await signed_in(client, resources, ana)
        created = await client.post("/api/articles", headers=csrf, json={
            "title": "Calle Ocho at dawn", "coAuthorIds": [bea]})
        slug = created.json()["slug"]
        assert (ids(created.json()["coAuthors"]), ids(created.json()["invitedCoAuthors"])) == (
            [], [bea])
        await client.post(f"/api/articles/{slug}/publish", headers=csrf)

        assert await notices(resources, bea) == [("Invite", ana, {
            "type": "Article", "id": slug, "url": f"/articles/{slug}",
            "summary": "Calle Ocho at dawn", "name": None, "status": None, "endTime": None})]
        csrf = await signed_in(client, resources, bea)
        edit = await client.patch(f"/api/articles/{slug}", headers=csrf, json={"title": "Mine"})
        assert edit.status_code == 403
        listed = (await client.get("/api/articles", params={"mine": "true"})).json()["items"]
        assert listed == []

    async def test_renaming_keeps_co_authors_invites_only_the_new_and_drops_the_rest(
        self, client, resources
    ):
        ana = await create_user(resources)
        kept, dropped, waiting, new = [await create_user(resources) for _ in range(4)]
        slug = await create_article(resources, ana, co_author_ids=[kept, dropped],
                                    invited=[waiting])
        csrf = await signed_in(client, resources, ana)
        response = await client.patch(f"/api/articles/{slug}", headers=csrf,
                                      json={"coAuthorIds": [new, kept, waiting]})
        assert response.status_code == 200, response.text
        article = response.json()
        assert (ids(article["coAuthors"]), ids(article["invitedCoAuthors"])) == (
            [kept], [new, waiting])
        assert [n[0] for n in await notices(resources, waiting)] == ["Invite"]
        assert [n[0] for n in await notices(resources, new)] == ["Invite"]
        dropped_edit = await client.patch(f"/api/articles/{slug}", headers=await signed_in(
            client, resources, dropped), json={"title": "X"})
        assert dropped_edit.status_code == 404

    async def test_unknown_people_and_the_author_are_refused(self, client, resources):
        ana = await create_user(resources)
        csrf = await signed_in(client, resources, ana)
        for named in (["nobody"], [ana]):
            response = await client.post("/api/articles", headers=csrf,
                                         json={"title": "T", "coAuthorIds": named})
            assert response.status_code == 422
            assert response.json()["fields"][0]["field"] == "coAuthorIds"
        assert await resources.mongo.articles.count_documents({}) == 0
        assert await notices(resources, ana) == []

    async def test_only_writers_see_every_invitation(self, client, resources):
        ana, bea, cy = [await create_user(resources) for _ in range(3)]
        slug = await create_article(resources, ana, status="published", invited=[bea, cy])
        assert (await client.get(f"/api/articles/{slug}")).json()["invitedCoAuthors"] == []
        await sign_in_as(client, resources, bea)
        assert ids((await client.get(f"/api/articles/{slug}")).json()["invitedCoAuthors"]) == [
            bea]
        await sign_in_as(client, resources, ana)
        assert ids((await client.get(f"/api/articles/{slug}")).json()["invitedCoAuthors"]) == [
            bea, cy]

    async def test_a_change_to_co_authors_made_while_someone_answers_is_refused(
        self, resources
    ):
        ana, bea = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, invited=[bea])
        read_before = ArticleDocument.model_validate(
            await resources.mongo.articles.find_one({"slug": slug}))
        await invitations.accept_invitation(resources, principal(bea), slug)
        with pytest.raises(Conflict):
            await service.write(resources, principal(ana), read_before, Action.EDIT,
                                {"$set": {"invitedCoAuthorIds": [bea], "coAuthorIds": []}},
                                same_people=True)
        stored = await resources.mongo.articles.find_one({"slug": slug})
        assert (stored["coAuthorIds"], stored["invitedCoAuthorIds"]) == ([bea], [])


    async def test_an_invitation_to_a_deleted_user_is_shown_to_nobody(self, client, resources,
                                                                      connection):
        ana, bea = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, invited=[bea])
        await connection.execute(delete(User).where(User.id == bea))
        await sign_in_as(client, resources, ana)
        assert (await client.get(f"/api/articles/{slug}")).json()["invitedCoAuthors"] == []


class TestAnswering:
    async def test_accepting_makes_a_co_author_and_tells_the_author(self, client, resources):
        ana, bea = await create_user(resources), await create_user(resources, name="Bea")
        slug = await create_article(resources, ana, title="Ventanitas", invited=[bea])
        csrf = await signed_in(client, resources, bea)
        assert (await client.get(f"/api/articles/{slug}")).status_code == 200  # the draft

        accepted = await client.post(f"/api/articles/{slug}/co-authors/me/accept", headers=csrf)
        assert accepted.status_code == 200, accepted.text
        assert (ids(accepted.json()["coAuthors"]), accepted.json()["invitedCoAuthors"]) == (
            [bea], [])
        again = await client.post(f"/api/articles/{slug}/co-authors/me/accept", headers=csrf)
        assert again.json()["coAuthors"] == accepted.json()["coAuthors"]
        edit = await client.patch(f"/api/articles/{slug}", headers=csrf, json={"title": "Ours"})
        assert edit.status_code == 200
        assert await notices(resources, ana) == [("Accept", bea, {
            "type": "Invite", "id": slug, "url": f"/articles/{slug}",
            "summary": "your invitation to co-author Ventanitas", "name": None, "status": None,
            "endTime": None})]

    async def test_declining_drops_the_invitation_and_tells_the_author(self, client, resources):
        ana, bea = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, invited=[bea])
        csrf = await signed_in(client, resources, bea)
        declined = await client.post(f"/api/articles/{slug}/co-authors/me/decline", headers=csrf)
        assert declined.status_code == 204
        assert (await client.get(f"/api/articles/{slug}")).status_code == 404  # a draft again
        late = await client.post(f"/api/articles/{slug}/co-authors/me/accept", headers=csrf)
        assert late.status_code == 404
        assert [n[:2] for n in await notices(resources, ana)] == [("Reject", bea)]
        stored = await resources.mongo.articles.find_one({"slug": slug})
        assert (stored["coAuthorIds"], stored["invitedCoAuthorIds"]) == ([], [])

    async def test_someone_not_invited_cannot_join(self, client, resources):
        ana, eve = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, status="published")
        csrf = await signed_in(client, resources, eve)
        for method, path in (("POST", "accept"), ("POST", "decline")):
            response = await client.request(
                method, f"/api/articles/{slug}/co-authors/me/{path}", headers=csrf)
            assert (response.status_code, response.json()["error"]) == (409, "not invited")
        leave = await client.delete(f"/api/articles/{slug}/co-authors/me", headers=csrf)
        assert (leave.status_code, leave.json()["error"]) == (409, "not a co-author")
        draft = await create_article(resources, ana)
        hidden = await client.post(f"/api/articles/{draft}/co-authors/me/accept", headers=csrf)
        assert hidden.status_code == 404
        assert (await resources.mongo.articles.find_one({"slug": slug}))["coAuthorIds"] == []


class TestLeaving:
    async def test_a_co_author_leaves_a_published_article(self, client, resources):
        ana, bea = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, status="published", co_author_ids=[bea])
        csrf = await signed_in(client, resources, bea)
        assert (await client.delete(f"/api/articles/{slug}/co-authors/me",
                                    headers=csrf)).status_code == 204
        assert (await client.get(f"/api/articles/{slug}")).json()["coAuthors"] == []
        edit = await client.patch(f"/api/articles/{slug}", headers=csrf, json={"title": "X"})
        assert edit.status_code == 403
        again = await client.delete(f"/api/articles/{slug}/co-authors/me", headers=csrf)
        assert again.status_code == 409

    async def test_a_co_author_leaves_even_a_removed_article(self, client, resources):
        ana, bea = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, status="removed", co_author_ids=[bea])
        csrf = await signed_in(client, resources, bea)
        assert (await client.get(f"/api/articles/{slug}")).status_code == 404
        assert (await client.delete(f"/api/articles/{slug}/co-authors/me",
                                    headers=csrf)).status_code == 204
        assert (await resources.mongo.articles.find_one({"slug": slug}))["coAuthorIds"] == []


class TestPages:
    async def test_invited_accept_then_leave_from_the_article_page(self, client, resources):
        ana = await create_user(resources, name="Ana", screenname="ana")
        bea = await create_user(resources, name="Bea")
        slug = await create_article(resources, ana, title="Croquetas", status="published",
                                    invited=[bea])
        await sign_in_as(client, resources, bea)
        await relay.drain(resources)
        told = text_of((await client.get("/notifications", headers=BROWSER)).text)
        assert "Ana invited you to co-write Croquetas" in told
        page = text_of((await client.get(f"/articles/{slug}", headers=BROWSER)).text)
        assert "You are invited to co-author this article." in page and "By Ana" in page

        accepted = await submit(client, f"/articles/{slug}/co-authors/accept", {},
                                page=f"/articles/{slug}")
        assert accepted.status_code == 303
        page = text_of((await client.get(accepted.headers["location"], headers=BROWSER)).text)
        assert "You are now a co-author." in page and "By Ana and Bea" in page

        left = await submit(client, f"/articles/{slug}/co-authors/leave", {},
                            page=f"/articles/{slug}")
        assert left.status_code == 303
        page = text_of((await client.get(f"/articles/{slug}", headers=BROWSER)).text)
        assert "By Ana" in page and "Bea" not in page

    async def test_declining_from_the_article_page(self, client, resources):
        ana, bea = await create_user(resources), await create_user(resources)
        slug = await create_article(resources, ana, invited=[bea])
        await sign_in_as(client, resources, bea)
        declined = await submit(client, f"/articles/{slug}/co-authors/decline", {},
                                page=f"/articles/{slug}")
        assert declined.status_code == 303
        assert (await client.get(f"/articles/{slug}", headers=BROWSER)).status_code == 404

class TestDemo:
    async def test_demo_co_authors_accepted_and_one_invitation_waits(self, resources):
        await demo.seed(resources)
        walls = await resources.mongo.articles.find_one({"slug": "painting-walls-in-wynwood"})
        reading = await resources.mongo.articles.find_one({"slug": "summer-reading-list"})
        assert (walls["coAuthorIds"], walls["invitedCoAuthorIds"]) == ([demo.user_id("marco")], [])
        assert (reading["coAuthorIds"], reading["invitedCoAuthorIds"]) == (
            [], [demo.user_id("ana")])
        assert [n[:2] for n in await notices(resources, demo.user_id("ana"))
                if n[0] == "Invite"] == [("Invite", demo.user_id("maria"))]
