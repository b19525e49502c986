"""A legacy user who never proved an address cannot take over the person who did.

The victim has a verified address, in PostgreSQL (signed up on the new system) or among the
legacy users. Two legacy impostors claim it: one with the address unverified, one verified
but written in full-width letters. Each has a session cookie and a GitHub account; the
first also has an account at the OpenID Connect provider the app signs in with. After the
move, none of them gets in as the victim.
"""

import pytest
from sqlalchemy import select

from panamia.identity.models import Account
from panamia.identity.oauth import OAuthSignInError, ProviderProfile, sign_in_with_provider
from panamia.legacy.auth import run_auth
from tests.identity.factories import create_user
from tests.identity.test_oauth import (  # noqa: F401 - fixtures
    app_for,
    oidc_issuer,
    provider,
    provider_user,
    sign_in,
)
from tests.legacy.factories import NOW, account_doc, insert, session_doc, user_doc
from tests.legacy.test_auth import counts, mapped, move, rejected

VICTIM = "victim@example.org"
LOOKALIKE = "\uff56ictim@example.org"  # a full-width v


@pytest.fixture
def main_app(settings, resources, oidc_issuer):  # noqa: F811 - the app signs in with the mock
    return app_for(settings, resources, oidc_issuer)


async def landed_as(client, cookie: str) -> str | None:
    """Whom the main app signs in with this legacy session cookie."""
    client.cookies.clear()
    client.cookies.set("next-auth.session-token", cookie)
    return (await client.get("/api/auth/session")).json().get("user", {}).get("id")


async def github_lands_as(resources, account_id: str) -> str | None:
    """Whom signing in with this GitHub account starts a session for (the service the
    callback calls; github.com itself is out of reach here). GitHub tells the app the
    victim's address, unverified: all an impostor could make it say."""
    profile = ProviderProfile(provider_account_id=account_id, email=VICTIM,
                              email_verified=False, name="Impostor", image=None)
    try:
        new = await sign_in_with_provider(resources, "github", "oauth", profile, {},
                                          signed_in_as=None, previous_session=None)
    except OAuthSignInError:
        return None
    return new.user_id


@pytest.mark.parametrize("victim_in", ["postgres", "legacy"])
async def test_unproven_duplicates_of_a_verified_address_take_nothing_over(
        victim_in, resources, connection, client, provider):  # noqa: F811
    victim = user_doc(email=VICTIM, emailVerified=NOW)
    victim_session = session_doc(victim["_id"])
    if victim_in == "postgres":
        victim_id = await create_user(resources, email=VICTIM, email_verified=NOW)
        legacy_users, legacy_sessions = [], []
    else:
        legacy_users, legacy_sessions = [victim], [victim_session]
    sub = await provider_user(provider, email=VICTIM, email_verified=False)
    unverified = user_doc(email="Victim@Example.org", emailVerified=None)
    lookalike = user_doc(email=LOOKALIKE, emailVerified=NOW)
    sessions = [session_doc(unverified["_id"]), session_doc(lookalike["_id"])]
    accounts = [account_doc(unverified["_id"], provider_account_id="gh-unverified"),
                account_doc(unverified["_id"], provider="oidc", type="oidc",
                            provider_account_id=sub),
                account_doc(lookalike["_id"], provider_account_id="gh-lookalike")]
    await insert(resources.mongo, "users", [*legacy_users, unverified, lookalike])
    await insert(resources.mongo, "accounts", accounts)
    await insert(resources.mongo, "sessions", [*legacy_sessions, *sessions])

    await run_auth(move(resources))

    if victim_in == "legacy":
        victim_id, outcome = await mapped(connection, "user", victim["_id"])
        assert outcome == "imported"
        assert await landed_as(client, victim_session["sessionToken"]) == victim_id
    for session in sessions:
        assert await landed_as(client, session["sessionToken"]) is None
    carried = (await connection.execute(select(Account.provider_account_id).where(
        Account.provider_account_id.in_([a["providerAccountId"] for a in accounts])))).all()
    assert carried == []
    for account_id in ("gh-unverified", "gh-lookalike"):
        assert await github_lands_as(resources, account_id) != victim_id
    client.cookies.clear()
    response = await sign_in(client, provider, sub)
    assert response.status_code == 400, response.text
    assert (await client.get("/api/auth/session")).json() == {}

    assert (await rejected(connection, "users", unverified["_id"])).startswith(
        "unverified email in use: ")
    assert (await rejected(connection, "users", lookalike["_id"])).startswith(
        "confusable email: ")
    for collection, docs in (("sessions", sessions), ("accounts", accounts)):
        for doc in docs:
            assert (await rejected(connection, collection, doc["_id"])).startswith(
                "user rejected: ")
    steps = await counts(connection)
    for step in ("auth.users", "auth.accounts", "auth.sessions"):
        c = steps[step]
        assert c["read"] == c.get("imported", 0) + c.get("merged", 0) + c["rejected"]


async def test_a_legacy_duplicate_merges_when_both_addresses_are_verified(
        resources, connection, client):
    first = user_doc(email=VICTIM, emailVerified=NOW)
    again = user_doc(email="  VICTIM@example.org", emailVerified=NOW)
    session = session_doc(again["_id"])
    await insert(resources.mongo, "users", [first, again])
    await insert(resources.mongo, "sessions", [session])

    await run_auth(move(resources))

    victim_id, _ = await mapped(connection, "user", first["_id"])
    assert await mapped(connection, "user", again["_id"]) == (victim_id, "merged")
    assert await landed_as(client, session["sessionToken"]) == victim_id
