"""A legacy user who never proved an address cannot take over the person who did.

The victim has a verified address, in PostgreSQL (signed up on the new system) or among the
legacy users, before or after the impostors by `_id`. Three legacy impostors claim it: one
with the address unverified, two verified but written with look-alike letters (full-width,
a Kelvin sign). Each has a session cookie and a GitHub account; the first also has an
account at the OpenID Connect provider the app signs in with. After the move, none of
them gets in as the victim, and the victim's own cookie and GitHub account still do.
"""

import pytest
from bson import ObjectId
from sqlalchemy import select

from panamia.identity.models import Account, User
from panamia.identity.oauth import OAuthSignInError, ProviderProfile, sign_in_with_provider
from panamia.legacy.auth import run_auth
from panamia.legacy.plan import plan_auth
from tests.fixtures.oidc import app_for, provider_user, sign_in
from tests.identity.factories import create_user
from tests.legacy.factories import NOW, account_doc, insert, session_doc, user_doc
from tests.legacy.test_auth import mapped, move, rejected
from tests.legacy.test_plan import outcomes

VICTIM = "vicky@example.org"
LOOKALIKES = ("\uff56icky@example.org",  # a full-width v
              "vic\u212ay@example.org")  # a Kelvin sign, which lower-cases to k


@pytest.fixture
def main_app(settings, resources, oidc_issuer):  # the app signs in with the mock
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


@pytest.mark.parametrize("victim_in", ["postgres", "legacy, first", "legacy, last"])
async def test_unproven_duplicates_of_a_verified_address_take_nothing_over(
        victim_in, resources, connection, client, provider):
    first, last = ObjectId(), ObjectId()
    victim = user_doc(_id=last if victim_in == "legacy, last" else first, email=VICTIM,
                      emailVerified=NOW)
    victim_session = session_doc(victim["_id"])
    victim_github = account_doc(victim["_id"], provider_account_id="gh-victim")
    if victim_in == "postgres":
        victim_id = await create_user(resources, email=VICTIM, email_verified=NOW)
        legacy_users, legacy_sessions, legacy_accounts = [], [], []
    else:
        legacy_users, legacy_sessions, legacy_accounts = [victim], [victim_session], [victim_github]
    sub = await provider_user(provider, email=VICTIM, email_verified=False)
    unverified = user_doc(_id=first if victim_in == "legacy, last" else last,
                          email="Vicky@Example.org", emailVerified=None)
    lookalikes = [user_doc(email=email, emailVerified=NOW) for email in LOOKALIKES]
    impostors = [unverified, *lookalikes]
    sessions = [session_doc(impostor["_id"]) for impostor in impostors]
    accounts = [account_doc(unverified["_id"], provider_account_id="gh-unverified"),
                account_doc(unverified["_id"], provider="oidc", type="oidc",
                            provider_account_id=sub),
                *(account_doc(lookalike["_id"], provider_account_id=f"gh-lookalike-{i}")
                  for i, lookalike in enumerate(lookalikes))]
    await insert(resources.mongo, "users", [*legacy_users, *impostors])
    await insert(resources.mongo, "accounts", [*legacy_accounts, *accounts])
    await insert(resources.mongo, "sessions", [*legacy_sessions, *sessions])

    planned = outcomes(await plan_auth(move(resources)))
    done = outcomes(await run_auth(move(resources)))

    if victim_in != "postgres":
        victim_id, outcome = await mapped(connection, "user", victim["_id"])
        assert outcome == "imported"
        assert await landed_as(client, victim_session["sessionToken"]) == victim_id
        assert await github_lands_as(resources, "gh-victim") == victim_id
    # A sign-in link to the address opens the account of the user who has it.
    assert (await connection.execute(select(User.id).where(User.email == VICTIM))).scalar() \
        == victim_id
    for session in sessions:
        assert await landed_as(client, session["sessionToken"]) is None
    carried = (await connection.execute(select(Account.provider_account_id).where(
        Account.provider_account_id.in_([a["providerAccountId"] for a in accounts])))).all()
    assert carried == []
    for account in accounts:
        if account["provider"] == "github":
            assert await github_lands_as(resources, account["providerAccountId"]) != victim_id
    client.cookies.clear()
    response = await sign_in(client, provider, sub)
    assert response.status_code == 400, response.text
    assert (await client.get("/api/auth/session")).json() == {}

    assert (await rejected(connection, "users", unverified["_id"])).startswith(
        "unverified email in use: ")
    for lookalike in lookalikes:
        assert (await rejected(connection, "users", lookalike["_id"])).startswith(
            "confusable email: ")
    for collection, docs in (("sessions", sessions), ("accounts", accounts)):
        for doc in docs:
            assert (await rejected(connection, collection, doc["_id"])).startswith(
                "user rejected: ")
    for step in ("auth.users", "auth.accounts", "auth.sessions"):
        c = done[step]
        assert c == planned[step]
        assert c["read"] == c.get("imported", 0) + c.get("merged", 0) + c["rejected"]


async def test_a_legacy_duplicate_merges_when_both_addresses_are_verified(
        resources, connection, client):
    first = user_doc(email=VICTIM, emailVerified=NOW)
    again = user_doc(email=f"  {VICTIM.upper()}", emailVerified=NOW)
    session = session_doc(again["_id"])
    await insert(resources.mongo, "users", [first, again])
    await insert(resources.mongo, "sessions", [session])

    await run_auth(move(resources))

    victim_id, _ = await mapped(connection, "user", first["_id"])
    assert await mapped(connection, "user", again["_id"]) == (victim_id, "merged")
    assert await landed_as(client, session["sessionToken"]) == victim_id


@pytest.mark.parametrize(("unverified_email", "verified_email"), [
    ("\u3000VICKY@example.org", "vicky@example.org"),  # padded as str.strip() sees it
    ("Ünï@Example.org", "ünï@example.org"),  # lower case beyond ASCII
])
async def test_an_earlier_unverified_record_loses_the_address_however_it_is_written(
        unverified_email, verified_email, resources, connection, client):
    unverified = user_doc(email=unverified_email, emailVerified=None)
    verified = user_doc(email=verified_email, emailVerified=NOW)
    sessions = [session_doc(unverified["_id"]), session_doc(verified["_id"])]
    await insert(resources.mongo, "users", [unverified, verified])
    await insert(resources.mongo, "sessions", sessions)

    await run_auth(move(resources, batch_size=1))

    owner, outcome = await mapped(connection, "user", verified["_id"])
    assert outcome == "imported"
    assert (await rejected(connection, "users", unverified["_id"])).startswith(
        "unverified email in use: another legacy user verified this address")
    assert [await landed_as(client, s["sessionToken"]) for s in sessions] == [None, owner]


async def test_without_a_verified_record_the_first_unverified_one_keeps_the_address(
        resources, connection):
    first = user_doc(email="vicky@example.org", emailVerified=None)
    again = user_doc(email=" Vicky@example.org", emailVerified=None)
    await insert(resources.mongo, "users", [first, again])

    await run_auth(move(resources))

    assert (await mapped(connection, "user", first["_id"]))[1] == "imported"
    assert (await rejected(connection, "users", again["_id"])).startswith(
        "unverified email in use: an earlier legacy user has this address")
