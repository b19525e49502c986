"""Identity pages: sign in by email link or provider, sign out, screenname, deleting the account."""

from typing import Annotated

from fastapi import Query, Request

from panamia import pages
from panamia.errors import Conflict, Invalid, NotFound, TooManyRequests, Unavailable
from panamia.identity import account, cookies, ratelimit, service
from panamia.identity.dependencies import CurrentUser, resolve_principal, session_cookie
from panamia.identity.tokens import csrf_cookie_value, csrf_token_from_cookie, new_token
from panamia.mail import DevOutbox

router = pages.page_router()
CallbackUrl = Annotated[str | None, Query(alias="callbackUrl", max_length=2048)]
LINK_FAILED = ("That sign-in link is invalid, expired or already used. "
               "Enter your email below and we will send you a new one.")


async def signed_in_layout(request: Request) -> pages.LayoutPart:
    """Every page's signed-in `user` and the `csrf_token` its forms send (the token's cookie
    is set when the browser has none)."""
    resources = pages.resources_of(request)
    settings = resources.settings
    user = await resolve_principal(request, resources)
    token = csrf_token_from_cookie(
        request.cookies.get(cookies.csrf_cookie_name(settings)), settings.secret
    )
    if token is not None:
        return pages.LayoutPart({"user": user, "csrf_token": token})
    token = new_token()
    cookie = cookies.csrf_cookie_header(settings, csrf_cookie_value(token, settings.secret))
    return pages.LayoutPart({"user": user, "csrf_token": token}, [cookie])


def providers(request: Request) -> list[tuple[str, str]]:
    settings = pages.resources_of(request).settings
    labels = {"github": "GitHub", "google": "Google", "oidc": settings.auth_oidc_name}
    return [(client.name, labels[client.name]) for client in settings.oauth_clients()]


async def sign_in_page(request: Request, *, callback_url: str | None, status: int = 200,
                       **context):
    return await pages.render(
        request, "signin.html", status=status, title="Sign in", nav="signin",
        providers=providers(request), callback_url=callback_url or "/account",
        **context,
    )


@router.get("/signin")
async def sign_in(request: Request, callback_url: CallbackUrl = None,
                  error: Annotated[str | None, Query(max_length=20)] = None):
    return await sign_in_page(request, callback_url=callback_url,
                              error=LINK_FAILED if error == "link" else None)


@router.post("/signin")
async def send_sign_in_link(request: Request):
    form = await pages.read_form(request)
    callback_url = form.get("callbackUrl") or None
    email = form.get("email", "").strip()
    try:
        await service.request_email_sign_in(pages.resources_of(request), email, callback_url,
                                            client=ratelimit.client_address(request))
    except TooManyRequests as exc:
        page = await pages.render(request, "signin_wait.html", status=exc.status,
                                  title="Please wait a little", message=exc.detail)
        page.headers.update(exc.headers)
        return page
    except Invalid:
        return await sign_in_page(
            request, callback_url=callback_url, status=422, values={"email": email},
            errors={"email": "Enter an email address like name@example.org."},
            labels={"email": "Email address"},
        )
    except Unavailable as exc:  # the mail server is down or refused: the form, to send again
        return await sign_in_page(request, callback_url=callback_url, status=exc.status,
                                  error=exc.detail, values={"email": email})
    return await pages.render(request, "signin_sent.html", title="Check your mail", email=email)


@router.post("/signout")
async def sign_out(request: Request):
    resources = pages.resources_of(request)
    await service.sign_out(resources, session_cookie(request, resources))
    response = pages.redirect(request, "/", notice="You are signed out. See you soon!")
    cookies.clear_session_cookies(
        response, resources.settings, cookies.readable_session_cookie_names(resources.settings)
    )
    return response


@router.get("/dev/outbox")
async def dev_outbox(request: Request):
    """Under `panamia dev` only: the sign-in mails the dev outbox holds, newest first."""
    mailer = pages.resources_of(request).mailer
    if not isinstance(mailer, DevOutbox):
        raise NotFound("There is no dev outbox here.")
    return await pages.render(request, "dev_outbox.html", title="Dev outbox",
                              mails=list(mailer.entries))


async def screenname_page(request: Request, *, status: int = 200, **context):
    return await pages.render(request, "account_screenname.html", status=status,
                              title="Choose your screenname", nav="account",
                              labels={"screenname": "Screenname"}, **context)


@router.get("/account/screenname")
async def screenname_form(request: Request, user: CurrentUser):
    return await screenname_page(request, values={"screenname": user.screenname or ""})


@router.post("/account/screenname")
async def save_screenname(request: Request, user: CurrentUser):
    typed = (await pages.read_form(request)).get("screenname", "").strip()
    try:
        name = await service.set_screenname(pages.resources_of(request), user.id, typed)
    except (Invalid, Conflict) as exc:
        return await screenname_page(request, status=exc.status,
                                     values={"screenname": typed},
                                     errors={"screenname": exc.detail})
    return pages.redirect(request, "/account", notice=f"Your screenname is now @{name}.")


@router.get("/account/delete")
async def confirm_delete(request: Request, user: CurrentUser, queries: account.BlockerQueries):
    """Says what goes with the account, or first what must end before it can go."""
    found = await account.blockers(pages.resources_of(request), queries, user.id)
    return await pages.render(request, "account_delete.html", title="Delete your account",
                              nav="account", blockers=found)


@router.post("/account/delete")
async def delete_account(request: Request, user: CurrentUser, queries: account.BlockerQueries):
    resources = pages.resources_of(request)
    try:
        await account.delete_account(resources, user.id, queries)
    except account.AccountKept as exc:
        return await pages.render(request, "account_delete.html", status=409,
                                  title="Your account cannot be deleted yet", nav="account",
                                  reason=exc.reason, blockers=exc.blockers)
    response = pages.redirect(request, "/", notice="Your account is deleted. Take care!")
    cookies.clear_session_cookies(
        response, resources.settings, cookies.readable_session_cookie_names(resources.settings)
    )
    return response
