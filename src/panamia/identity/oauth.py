"""Sign-in through OAuth 2 / OpenID Connect providers (Authlib), with state and PKCE.

A provider account is never attached to an existing user because the emails match: the
person signs in by email link first, then links the provider while signed in.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import RedirectResponse
from joserfc.errors import JoseError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from starlette.middleware.sessions import SessionMiddleware

from panamia.db.postgres import new_id
from panamia.errors import Conflict, DomainError, Invalid, NotFound, Unavailable
from panamia.identity import cookies, service
from panamia.identity.dependencies import OptionalUser, session_cookie
from panamia.identity.emails import normalize_email
from panamia.identity.models import Account, User
from panamia.resources import Resources, ResourcesDep
from panamia.schemas import single_line_problem
from panamia.settings import OAuthClient, Settings

STATE_MAX_AGE = 15 * 60


class OAuthSignInError(DomainError):
    status = 400
    error = "OAuthSignin"


@dataclass(frozen=True)
class ProviderProfile:
    provider_account_id: str
    email: str
    email_verified: bool
    name: str | None
    image: str | None


def _register(registry: OAuth, client: OAuthClient) -> None:
    common = {"client_id": client.client_id, "client_secret": client.client_secret}
    if client.name == "github":
        registry.register(
            "github", **common,
            authorize_url="https://github.com/login/oauth/authorize",
            access_token_url="https://github.com/login/oauth/access_token",
            api_base_url="https://api.github.com/",
            client_kwargs={"scope": "read:user user:email", "code_challenge_method": "S256"},
        )
    else:
        registry.register(
            client.name, **common,
            server_metadata_url=f"{client.issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )


def _display_name(value) -> str | None:
    """A provider's name for the person, kept only when it is one line of visible text: it is
    shown in bylines, where a bidi override or a line break would mislead readers."""
    if not isinstance(value, str) or not value.strip() or single_line_problem(value):
        return None
    return value.strip()[:200]


async def _github_profile(client, token: dict) -> ProviderProfile:
    user = (await client.get("user", token=token)).json()
    emails = (await client.get("user/emails", token=token)).json()
    primary = next((e for e in emails if e.get("primary")), None) if isinstance(emails, list) else None
    email = (primary or {}).get("email") or user.get("email")
    return ProviderProfile(
        provider_account_id=str(user["id"]), email=email or "",
        email_verified=bool(primary and primary.get("verified")),
        name=_display_name(user.get("name") or user.get("login")), image=user.get("avatar_url"),
    )


def _oidc_profile(token: dict) -> ProviderProfile:
    claims = token.get("userinfo") or {}
    return ProviderProfile(
        provider_account_id=str(claims["sub"]), email=claims.get("email") or "",
        # Some providers (Cognito) send the claim as the string "true" or "false".
        email_verified=claims.get("email_verified") in (True, "true"),
        name=_display_name(claims.get("name")), image=claims.get("picture"),
    )


async def sign_in_with_provider(
    resources: Resources, provider: str, kind: str, profile: ProviderProfile, token: dict,
    signed_in_as: str | None, previous_session: str | None, user_agent: str | None = None,
) -> service.NewSession:
    """Auth.js's linking rules, in one transaction."""
    try:
        email = normalize_email(profile.email)
    except Invalid as exc:
        raise OAuthSignInError(
            f"{provider} did not share a usable email address; "
            "make one visible there and try again."
        ) from exc
    now = datetime.now(UTC)
    token_fields = {
        "access_token": token.get("access_token"), "refresh_token": token.get("refresh_token"),
        "expires_at": token.get("expires_at"), "token_type": token.get("token_type"),
        "scope": token.get("scope"), "id_token": token.get("id_token"),
        "session_state": token.get("session_state"),
    }
    try:
        return await _link_and_start_session(
            resources, provider, kind, profile, email, token_fields, signed_in_as,
            previous_session, now, user_agent,
        )
    except IntegrityError as exc:
        # Two first sign-ins of one person raced on the unique email or account.
        raise Conflict("Another sign-in for this account just happened; try again.") from exc


async def _link_and_start_session(
    resources: Resources, provider: str, kind: str, profile: ProviderProfile, email: str,
    token_fields: dict, signed_in_as: str | None, previous_session: str | None, now: datetime,
    user_agent: str | None,
) -> service.NewSession:
    async with resources.db.begin() as db:
        account_owner = (await db.execute(
            select(Account.user_id).where(
                Account.provider == provider,
                Account.provider_account_id == profile.provider_account_id,
            )
        )).scalar_one_or_none()
        if account_owner is not None:
            if signed_in_as and signed_in_as != account_owner:
                raise OAuthSignInError(
                    f"This {provider} account belongs to another user.", error="OAuthAccountNotLinked"
                )
            await db.execute(
                update(Account).where(
                    Account.provider == provider,
                    Account.provider_account_id == profile.provider_account_id,
                ).values(**token_fields, updated_at=now)
            )
            user_id = account_owner
        else:
            user_id = signed_in_as or await _new_user(db, provider, email, profile, now)
            await db.execute(Account.__table__.insert().values(
                id=new_id(), user_id=user_id, type=kind, provider=provider,
                provider_account_id=profile.provider_account_id, **token_fields,
            ))
        await service.end_session(db, resources, previous_session)
        return await service.start_session(db, resources, user_id, user_agent)


async def _new_user(db, provider: str, email: str, profile: ProviderProfile, now) -> str:
    # A user made from an unverified address would later receive that address's email
    # sign-ins, with a stranger's provider account attached: refuse instead.
    if not profile.email_verified:
        raise OAuthSignInError(
            f"{provider} has not verified {email}. Verify it there, or sign in with an email link.",
            error="OAuthEmailNotVerified",
        )
    taken = (await db.execute(
        select(User.id).where(func.lower(User.email) == email)
    )).scalar_one_or_none()
    if taken:
        raise OAuthSignInError(
            f"An account with {email} exists. Sign in with an email link first, then connect "
            f"{provider} from your account.",
            error="OAuthAccountNotLinked",
        )
    user_id = new_id()
    await db.execute(User.__table__.insert().values(
        id=user_id, email=email, name=profile.name, image=profile.image, email_verified=now,
    ))
    return user_id


def _unavailable(provider: str, exc: Exception) -> Unavailable:
    return Unavailable(
        f"{provider} could not be reached or gave an unreadable answer ({type(exc).__name__}). "
        "Try again in a moment.",
        error="OAuthSignin",
    )


def router(settings: Settings) -> APIRouter:
    registry = OAuth()
    clients = {c.name: c for c in settings.oauth_clients()}
    for client in clients.values():
        _register(registry, client)
    api = APIRouter(prefix="/api/auth", tags=["identity"])

    def client_for(provider: str):
        if provider not in clients:
            raise NotFound(f"No sign-in provider named {provider!r} is configured.")
        return registry.create_client(provider)

    @api.get("/providers", summary="The configured sign-in providers")
    async def providers() -> dict:
        names = {"github": "GitHub", "google": "Google", "oidc": settings.auth_oidc_name}
        entries = {"email": {"id": "email", "name": "Email", "type": "email"}}
        for name in clients:
            entries[name] = {"id": name, "name": names[name],
                             "type": "oauth" if name == "github" else "oidc"}
        return entries

    @api.get("/signin/{provider}", summary="Start signing in with a provider",
             response_class=RedirectResponse, status_code=302)
    async def start(
        provider: str, request: Request,
        callback_url: Annotated[str | None, Query(alias="callbackUrl", max_length=2048)] = None,
    ):
        client = client_for(provider)
        request.session["callbackUrl"] = callback_url or ""
        try:
            return await client.authorize_redirect(
                request, f"{settings.auth_url}/api/auth/callback/{provider}"
            )
        except (httpx.HTTPError, ValueError) as exc:
            raise _unavailable(provider, exc) from exc

    @api.get("/callback/{provider}", summary="Where a provider sends the browser back",
             response_class=RedirectResponse, status_code=302)
    async def callback(
        provider: str, request: Request, user: OptionalUser,
        resources: ResourcesDep,
    ):
        client = client_for(provider)
        try:
            token = await client.authorize_access_token(request)
            profile = (await _github_profile(client, token) if provider == "github"
                       else _oidc_profile(token))
        except httpx.HTTPError as exc:
            raise _unavailable(provider, exc) from exc
        except (OAuthError, JoseError, KeyError, ValueError) as exc:
            # JoseError: the ID token's signature or claims (exp, iss, aud, nonce) are wrong.
            raise OAuthSignInError(
                f"Signing in with {provider} did not complete ({type(exc).__name__}). Try again."
            ) from exc
        new = await sign_in_with_provider(
            resources, provider, "oauth" if provider == "github" else "oidc", profile, token,
            user.id if user else None, session_cookie(request, resources),
            request.headers.get("user-agent"),
        )
        target = service.callback_target(resources, request.session.pop("callbackUrl", None))
        return cookies.signed_in_redirect(settings, request, target, new.token, new.expires)

    return api


def install(app: FastAPI, settings: Settings) -> None:
    """Authlib keeps state, nonce and the PKCE verifier in a short-lived signed cookie."""
    if settings.oauth_clients():
        app.add_middleware(
            SessionMiddleware, secret_key=settings.secret,
            session_cookie=cookies.oauth_state_cookie_name(settings), path="/",
            max_age=STATE_MAX_AGE, same_site="lax", https_only=settings.secure_cookies,
        )
