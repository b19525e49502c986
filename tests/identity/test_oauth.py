"""Sign-in through a real OpenID Connect provider (oidc-provider-mock, real HTTP in a thread)."""

import dataclasses
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import func, select

from panamia.identity.models import Account, User
from tests.fixtures.http import asgi_client
from tests.fixtures.oidc import app_for, authorize, provider_user, sign_in, start
from tests.fixtures.servers import free_port
from tests.identity.factories import create_user, sign_in_as, unique_email


@pytest.fixture
def main_app(settings, resources, oidc_issuer):
    return app_for(settings, resources, oidc_issuer)


@pytest.fixture
def secure_app(settings, resources, oidc_issuer):
    """The main app served over https, as in production."""
    secure = settings.model_copy(update={"auth_url": "https://testserver"})
    return app_for(secure, dataclasses.replace(resources, settings=secure), oidc_issuer)


async def accounts_of(connection, sub):
    return (await connection.execute(
        select(Account).where(Account.provider == "oidc", Account.provider_account_id == sub)
    )).all()


class TestFirstSignIn:
    async def test_creates_the_user_and_account_and_signs_in(self, client, provider, connection):
        email = unique_email("oidc")
        sub = await provider_user(provider, email=email)

        response = await sign_in(client, provider, sub)

        assert response.status_code == 302, response.text
        assert response.headers["location"] == "http://testserver/articles"
        assert response.headers["set-cookie"].startswith("authjs.session-token=")
        session = (await client.get("/api/auth/session")).json()
        assert session["user"]["email"] == email
        assert session["user"]["name"] == "Ana Provider"
        [account] = await accounts_of(connection, sub)
        assert (account.type, account.user_id) == ("oidc", session["user"]["id"])
        assert account.id_token and account.access_token
        user = (await connection.execute(select(User).where(User.email == email))).one()
        assert user.email_verified is not None

    async def test_the_device_is_recorded(self, client, provider):
        client.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0"
        await sign_in(client, provider, await provider_user(provider))
        [device] = (await client.get("/api/account/sessions")).json()
        assert device["device"] == "Firefox 128 on Linux"

    async def test_another_site_as_callback_goes_home(self, client, provider):
        sub = await provider_user(provider)
        response = await sign_in(client, provider, sub, callback_url="https://evil.example/x")
        assert response.headers["location"] == "http://testserver/"


class TestSignInAgain:
    async def test_the_same_sub_is_the_same_user(self, client, provider, connection):
        email = unique_email("oidc")
        sub = await provider_user(provider, email=email)
        await sign_in(client, provider, sub)
        first = (await client.get("/api/auth/session")).json()["user"]["id"]
        client.cookies.clear()

        response = await sign_in(client, provider, sub)

        assert response.status_code == 302, response.text
        assert (await client.get("/api/auth/session")).json()["user"]["id"] == first
        users = (await connection.execute(
            select(func.count()).select_from(User).where(User.email == email)
        )).scalar_one()
        assert users == 1
        assert len(await accounts_of(connection, sub)) == 1


class TestLinking:
    async def test_a_matching_email_is_not_linked_while_signed_out(
        self, client, provider, resources, connection
    ):
        email = unique_email("taken")
        await create_user(resources, email=email)
        sub = await provider_user(provider, email=email.upper())

        response = await sign_in(client, provider, sub)

        assert response.status_code == 400
        assert response.json()["error"] == "OAuthAccountNotLinked"
        assert "email link" in response.json()["detail"]
        assert await accounts_of(connection, sub) == []
        assert (await client.get("/api/auth/session")).json() == {}

    async def test_signed_in_links_the_new_account_to_the_current_user(
        self, client, provider, resources, connection
    ):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        sub = await provider_user(provider)

        response = await sign_in(client, provider, sub)

        assert response.status_code == 302, response.text
        [account] = await accounts_of(connection, sub)
        assert account.user_id == user_id
        assert (await client.get("/api/auth/session")).json()["user"]["id"] == user_id

    async def test_an_account_of_another_user_is_refused(
        self, client, provider, resources, connection
    ):
        sub = await provider_user(provider)
        await sign_in(client, provider, sub)
        owner = (await client.get("/api/auth/session")).json()["user"]["id"]
        other = await create_user(resources)
        await sign_in_as(client, resources, other)

        response = await sign_in(client, provider, sub)

        assert response.status_code == 400
        assert response.json()["error"] == "OAuthAccountNotLinked"
        [account] = await accounts_of(connection, sub)
        assert account.user_id == owner


class TestState:
    async def test_the_authorize_redirect_carries_pkce_and_state(self, client, oidc_issuer):
        url = urlsplit(await start(client))
        query = parse_qs(url.query)

        assert f"{url.scheme}://{url.netloc}" == oidc_issuer
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) >= 43
        assert query["state"][0] and query["nonce"][0]
        assert query["redirect_uri"] == ["http://testserver/api/auth/callback/oidc"]
        assert "openid" in query["scope"][0].split()

    @pytest.mark.parametrize("state", [None, "forged"])
    async def test_a_wrong_or_missing_state_is_refused(self, client, provider, state):
        sub = await provider_user(provider)
        back = urlsplit(await authorize(provider, await start(client), sub))
        params = {"code": parse_qs(back.query)["code"][0]}
        if state:
            params["state"] = state

        response = await client.get(back.path, params=params)

        assert response.status_code == 400
        assert response.json()["error"] == "OAuthSignin"
        assert (await client.get("/api/auth/session")).json() == {}

    async def test_a_callback_from_another_browser_is_refused(self, client, provider, main_app):
        sub = await provider_user(provider)
        back = await authorize(provider, await start(client), sub)
        async with asgi_client(main_app) as stranger:
            response = await stranger.get(back)
        assert response.status_code == 400
        assert response.json()["error"] == "OAuthSignin"

    async def test_a_replayed_callback_is_refused(self, client, provider):
        sub = await provider_user(provider)
        back = await authorize(provider, await start(client), sub)
        assert (await client.get(back)).status_code == 302
        again = await client.get(back)
        assert again.status_code == 400
        assert again.json()["error"] == "OAuthSignin"

    async def test_a_denied_authorization_is_refused(self, client, provider):
        denied = await provider.post(await start(client), data={"action": "deny"})
        response = await client.get(denied.headers["location"])
        assert response.status_code == 400
        assert response.json()["error"] == "OAuthSignin"


class TestStateCookieOverHttps:
    async def test_the_state_cookie_is_host_prefixed(self, secure_app):
        async with asgi_client(secure_app, "https://testserver") as client:
            cookie = (await client.get("/api/auth/signin/oidc")).headers["set-cookie"]
        assert cookie.startswith("__Host-authjs.oauth-state=")
        assert "; path=/;" in cookie and "secure" in cookie and "domain" not in cookie

    async def test_a_whole_sign_in_works_over_https(self, secure_app, provider):
        sub = await provider_user(provider)
        async with asgi_client(secure_app, "https://testserver") as client:
            response = await sign_in(client, provider, sub)
        assert response.status_code == 302, response.text
        assert response.headers["set-cookie"].startswith("__Secure-authjs.session-token=")

    async def test_a_planted_unprefixed_state_cookie_is_ignored(self, secure_app, provider):
        """An attacker starts a sign-in with their own provider account, plants its state
        cookie in the victim's browser (over http, or from a sibling subdomain) and sends the
        victim to the callback: the victim must not end up signed in as the attacker."""
        sub = await provider_user(provider)
        async with (asgi_client(secure_app, "https://testserver") as attacker,
                    asgi_client(secure_app, "https://testserver") as victim):
            started = await attacker.get("/api/auth/signin/oidc")
            back = await authorize(provider, started.headers["location"], sub)
            state = started.headers["set-cookie"].split(";")[0].split("=", 1)[1]
            victim.cookies.set("authjs.oauth-state", state)

            response = await victim.get(back)

            assert response.status_code == 400
            assert (await victim.get("/api/auth/session")).json() == {}


class TestProviders:
    async def test_an_unknown_provider_is_404(self, client):
        response = await client.get("/api/auth/signin/nope")
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]

    async def test_an_unknown_provider_callback_is_404(self, client):
        response = await client.get("/api/auth/callback/nope", params={"code": "x", "state": "y"})
        assert response.status_code == 404

    async def test_the_list_has_email_and_oidc(self, client):
        providers = (await client.get("/api/auth/providers")).json()
        assert providers["email"]["type"] == "email"
        assert providers["oidc"] == {"id": "oidc", "name": "OpenID Connect", "type": "oidc"}


class TestProfile:
    @pytest.mark.parametrize("name", ["Ana\u202eredivorP", "Ana\nProvider", "   "])
    async def test_a_name_that_is_not_one_visible_line_is_left_out(self, client, provider, name):
        sub = await provider_user(provider, name=name)
        assert (await sign_in(client, provider, sub)).status_code == 302
        assert (await client.get("/api/auth/session")).json()["user"]["name"] is None

    async def test_no_email_is_refused(self, client, provider, connection):
        sub = await provider_user(provider, email=None)
        response = await sign_in(client, provider, sub)
        assert response.status_code == 400
        assert "email" in response.json()["detail"]
        assert await accounts_of(connection, sub) == []

    async def test_a_malformed_email_is_refused(self, client, provider, connection):
        sub = await provider_user(provider, email="not an email")
        response = await sign_in(client, provider, sub)
        assert response.status_code == 400
        assert response.json()["error"] == "OAuthSignin"
        assert await accounts_of(connection, sub) == []

    @pytest.mark.parametrize("verified", [False, "false"])
    async def test_an_unverified_email_makes_no_user(self, client, provider, connection, verified):
        email = unique_email("oidc")
        sub = await provider_user(provider, email=email, email_verified=verified)
        response = await sign_in(client, provider, sub)
        assert response.status_code == 400
        assert response.json()["error"] == "OAuthEmailNotVerified"
        assert (await connection.execute(select(User).where(User.email == email))).all() == []

    async def test_an_unverified_email_may_still_link_while_signed_in(
        self, client, provider, resources, connection
    ):
        user_id = await create_user(resources)
        await sign_in_as(client, resources, user_id)
        sub = await provider_user(provider, email=unique_email("oidc"), email_verified=False)
        assert (await sign_in(client, provider, sub)).status_code == 302
        assert [a.user_id for a in await accounts_of(connection, sub)] == [user_id]


class TestProviderTrouble:
    async def test_an_unreachable_provider_is_503(self, settings, resources):
        app = app_for(settings, resources, f"http://127.0.0.1:{free_port()}")
        async with asgi_client(app) as client:
            response = await client.get("/api/auth/signin/oidc")
        assert response.status_code == 503
        assert "oidc" in response.json()["detail"]

    async def test_a_provider_gone_before_the_callback_is_503(self, settings, resources):
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        async with asgi_client(app_for(settings, resources, issuer)) as client:
            with run_server_in_thread(port=port):
                async with httpx.AsyncClient(base_url=issuer) as provider:
                    sub = await provider_user(provider)
                    back = await authorize(provider, await start(client), sub)
            response = await client.get(back)
        assert response.status_code == 503
        assert response.json()["error"] == "OAuthSignin"

    async def test_an_expired_id_token_is_refused(self, settings, resources, connection):
        # A negative lifetime makes the provider sign ID tokens that are already expired.
        with run_server_in_thread(access_token_max_age=timedelta(minutes=-10)) as server:
            issuer = f"http://127.0.0.1:{server.server_port}"
            async with (httpx.AsyncClient(base_url=issuer) as provider,
                        asgi_client(app_for(settings, resources, issuer)) as client):
                sub = await provider_user(provider)
                response = await sign_in(client, provider, sub)
        assert response.status_code == 400
        assert response.json()["error"] == "OAuthSignin"
        assert await accounts_of(connection, sub) == []
