"""Who may see and do what, over HTTP, for every kind of person."""

import pytest

from panamia.identity import cookies
from tests.articles.factories import create_article
from tests.identity.factories import create_user, csrf_headers, sign_in_as

ACTORS = ("anonymous", "other", "invited", "author", "co-author", "admin")


@pytest.fixture
async def cast(resources) -> dict[str, str]:
    author = await create_user(resources)
    return {
        "author": author,
        "co-author": await create_user(resources),
        "invited": await create_user(resources),
        "other": await create_user(resources),
        "admin": await create_user(resources, email="admin@example.org"),
    }


async def act_as(client, resources, cast, actor: str) -> dict:
    csrf = await csrf_headers(client)
    if actor == "anonymous":
        client.cookies.delete(cookies.session_cookie_name(resources.settings))
    else:
        await sign_in_as(client, resources, cast[actor])
    return csrf


async def article(resources, cast, status: str) -> str:
    return await create_article(resources, cast["author"], status=status,
                                co_author_ids=[cast["co-author"]], invited=[cast["invited"]])


def expectations(table: dict[str, tuple[int, ...]]):
    return [(case, actor, status) for case, statuses in table.items()
            for actor, status in zip(ACTORS, statuses, strict=True)]


# "invited": asked to co-author, not answered yet: reads the draft, may do nothing more.
#        anonymous, other, invited, author, co-author, admin
SEEING = {
    "draft": (404, 404, 200, 200, 200, 200),
    "published": (200, 200, 200, 200, 200, 200),
    "removed": (404, 404, 404, 404, 404, 200),
}


@pytest.mark.parametrize(("status", "actor", "expected"), expectations(SEEING))
async def test_who_may_see(client, resources, cast, status, actor, expected):
    slug = await article(resources, cast, status)
    await act_as(client, resources, cast, actor)
    assert (await client.get(f"/api/articles/{slug}")).status_code == expected


# (starting status, method, path, body) and the answer for each actor
ACTIONS = {
    "edit": ("published", "PATCH", "", {"title": "New"}),
    "edit co-authors": ("published", "PATCH", "", {"coAuthorIds": []}),
    "publish": ("draft", "POST", "/publish", None),
    "remove": ("published", "DELETE", "", None),
    "restore": ("removed", "POST", "/restore", None),
}
DOING = {
    "edit": (401, 403, 403, 200, 200, 200),
    "edit co-authors": (401, 403, 403, 200, 403, 200),
    "publish": (401, 404, 403, 200, 200, 403),
    "remove": (401, 403, 403, 204, 403, 204),
    "restore": (401, 404, 404, 404, 404, 200),
}


@pytest.mark.parametrize(("action", "actor", "expected"), expectations(DOING))
async def test_who_may_do_what(client, resources, cast, action, actor, expected):
    status, method, suffix, body = ACTIONS[action]
    slug = await article(resources, cast, status)
    csrf = await act_as(client, resources, cast, actor)
    response = await client.request(method, f"/api/articles/{slug}{suffix}", headers=csrf,
                                    json=body)
    assert response.status_code == expected, response.text
    stored = await resources.mongo.articles.find_one({"slug": slug})
    if expected >= 400:
        assert stored["status"] == status and stored.get("title") != "New"


async def test_a_revoked_co_author_loses_the_right_to_edit(client, resources, cast):
    slug = await article(resources, cast, "draft")
    csrf = await act_as(client, resources, cast, "author")
    await client.patch(f"/api/articles/{slug}", headers=csrf, json={"coAuthorIds": []})
    await act_as(client, resources, cast, "co-author")
    response = await client.patch(f"/api/articles/{slug}", headers=csrf, json={"title": "X"})
    assert response.status_code == 404
