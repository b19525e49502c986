"""The main app keeps the promises of its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid ones and invalid ones, sent signed in with a
CSRF header to the app served in-process (its own lifespan, connections and relay, on a
database whose transactions commit and a fresh MongoDB database). Generated screennames,
slugs and notification ids are often swapped for ones that exist, so that requests reach
past the 404s. No answer may be a 5xx, use a status or content type the document does not
list, or break the schema it documents.

Reads run first, then writes, then deletions, so that the world is still there when read.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import insert, text

from panamia.apps.main import create_app
from panamia.articles.documents import Status
from panamia.identity.models import VerificationToken
from panamia.identity.tokens import new_token, verification_token_hash
from panamia.settings import Settings
from panamia.sidecar.registry import ensure_indexes
from tests import openapi
from tests.articles.factories import create_article
from tests.fixtures.http import signed_in_cookies
from tests.identity.factories import create_user
from tests.notifications.factories import delivered, like
from tests.openapi import SignedIn, known_or_generated
from tests.profiles.factories import create_member

# Operations left out, and why.
EXCLUDED = {
    # No OAuth provider is configured here (and a configured one would send the browser to
    # an external site): every request answers 404 before any code worth fuzzing runs.
    ("GET", "/api/auth/signin/{provider}"),
    ("GET", "/api/auth/callback/{provider}"),
}
# Who sends each operation's requests; everything else is sent as `me`.
ADMIN_ONLY = {("GET", "/api/admin/consistency"), ("POST", "/api/articles/{slug}/restore")}
# Ending a session or deleting an account would sign `me` out for the operations after it,
# so these run as someone else: the first request that can does it, the rest run signed out.
ENDS_THE_SESSION = {("GET", "/api/auth/callback/email"), ("POST", "/api/auth/signout")}
LEAVES = ("DELETE", "/api/account")
ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
# Text no database can hold, which generation seldom reaches by chance: a NUL (PostgreSQL
# refuses it) and a lone surrogate, which JSON can escape but UTF-8 cannot encode.
NUL_NAME = "openapi\x00me"
LONE_SURROGATE = "\ud800"
UNCLOSED_IPV6 = "http://[x"  # urlsplit raises on it


@dataclass
class World:
    me: SignedIn
    admin: SignedIn
    parting: SignedIn  # another session of `me`, for signing in by link and signing out
    leaver: SignedIn  # a user who deletes their account
    emails: list[str]
    link_tokens: list[str]  # a sign-in link's token, for the last of `emails`
    screennames: list[str]
    slugs: list[str]
    tags: list[str]
    categories: list[str]
    user_ids: list[str]
    notification_ids: list[str]


async def signed_in(resources, user_id: str) -> SignedIn:
    return SignedIn(*await signed_in_cookies(resources, user_id))


@pytest.fixture
async def world(committed) -> AsyncIterator[World]:
    """`me` has a screenname, an active profile, a published article, a draft, a removed
    article and a notification; `other` has an active profile, a published article that `me`
    co-wrote and a draft. A newcomer has a sign-in link waiting."""
    await ensure_indexes(committed.mongo)
    emails = ["openapi-me@example.org", "openapi-other@example.org",
              "openapi-newcomer@example.org"]
    me = await create_member(committed, screenname="openapi_me", name="Me", email=emails[0],
                             active=True, categories=["bakery"], bio="Fresh bread")
    other = await create_member(committed, screenname="openapi_other", name="Other",
                                email=emails[1], active=True, categories=["music"])
    admin = await create_user(committed, screenname="openapi_admin", role="admin")
    leaver = await create_user(committed)
    slugs = [
        await create_article(committed, me, status=Status.PUBLISHED, tags=["food"]),
        await create_article(committed, me, tags=["food", "draft"]),
        await create_article(committed, me, status=Status.REMOVED),
        await create_article(committed, other, status=Status.PUBLISHED, tags=["music"],
                             co_author_ids=[me]),
        await create_article(committed, other),
    ]
    notification_ids = await delivered(committed, like(me, other, id=slugs[0]))
    link_token = new_token()
    async with committed.db.begin() as db:
        await db.execute(insert(VerificationToken).values(
            identifier=emails[2], expires=datetime.now(UTC) + timedelta(hours=1),
            token=verification_token_hash(link_token, committed.settings.secret),
        ))
    yield World(
        me=await signed_in(committed, me), admin=await signed_in(committed, admin),
        parting=await signed_in(committed, me), leaver=await signed_in(committed, leaver),
        emails=emails, link_tokens=[link_token],
        screennames=["openapi_me", "openapi_other"], slugs=slugs,
        tags=["food", "music"], categories=["bakery", "music"],
        user_ids=[me, other, admin], notification_ids=notification_ids,
    )
    async with committed.engine.begin() as conn:
        await conn.execute(text("TRUNCATE verification_tokens"))


@pytest.fixture
def main_settings(committed_settings) -> Settings:
    """Without SMTP_URL: mail stays in the dev outbox, whose endpoint is then served too."""
    return committed_settings.model_copy(update={"smtp_url": None})


@pytest.fixture
def main_schema(world, main_settings):
    """The main app's OpenAPI, served in-process, with names and ids swapped for known ones."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(main_settings))
    openapi.swap_path_parameters(schema, {
        "screenname": [*world.screennames, NUL_NAME], "slug": world.slugs,
        "notification_id": world.notification_ids,
    })
    known_query = {"author": [*world.screennames, NUL_NAME], "name": world.screennames,
                   "tag": world.tags, "category": world.categories,
                   "email": world.emails, "token": world.link_tokens}

    @schema.hook
    def flatmap_query(context, query):
        if not isinstance(query, dict):
            return st.just(query)
        strategies = {name: st.just(value) for name, value in query.items()}
        for name, known in known_query.items():
            if isinstance(query.get(name), str):
                strategies[name] = known_or_generated(query[name], known)
        return st.fixed_dictionaries(strategies)

    @schema.hook
    def flatmap_body(context, body):
        """Addresses, taken slugs and screennames, co-authors who exist, and text that
        cannot be stored or parsed."""
        if not isinstance(body, dict):
            return st.just(body)
        strategies = {name: st.just(value) for name, value in body.items()}
        for name in ("title", "bio"):
            if isinstance(body.get(name), str):
                strategies[name] = known_or_generated(body[name], [LONE_SURROGATE])
        if isinstance(body.get("email"), str):
            strategies["email"] = known_or_generated(body["email"], world.emails)
        if isinstance(body.get("slug"), str):
            strategies["slug"] = known_or_generated(body["slug"], world.slugs)
        if isinstance(body.get("screenname"), str):
            strategies["screenname"] = known_or_generated(body["screenname"], world.screennames)
        if isinstance(body.get("socialLinks"), dict):
            strategies["socialLinks"] = known_or_generated(
                body["socialLinks"], [{"website": UNCLOSED_IPV6}])
        if isinstance(body.get("coAuthorIds"), list):
            strategies["coAuthorIds"] = known_or_generated(
                body["coAuthorIds"], [[], [world.user_ids[1]], world.user_ids[1:], [NUL_NAME]])
        return st.fixed_dictionaries(strategies)

    yield schema
    shutdown_lifespans()


def as_whom(world: World):
    def choose(operation) -> SignedIn:
        key = (operation.method.upper(), operation.path)
        if key in ADMIN_ONLY:
            return world.admin
        if key in ENDS_THE_SESSION:
            return world.parting
        return world.leaver if key == LEAVES else world.me
    return choose


def in_order(schema) -> list:
    return sorted(
        (op for op in openapi.operations(schema)
         if (op.method.upper(), op.path) not in EXCLUDED),
        key=lambda op: ORDER[op.method.upper()],
    )


# The main app has the most operations: fewer examples each keep this test near half a minute.
MAIN_EXAMPLES = {mode: examples // 2 for mode, examples in openapi.EXAMPLES.items()}


def test_the_main_app_keeps_its_promises(main_schema, world):
    failures = openapi.broken_promises(in_order(main_schema), as_whom(world),
                                       examples_per_mode=MAIN_EXAMPLES)
    assert not failures, "\n\n".join(failures)


def test_no_invalid_request_answers_5xx(main_schema, world):
    failures = openapi.server_errors_on_invalid_requests(in_order(main_schema), as_whom(world))
    assert not failures, "\n\n".join(failures)
