"""Email about notifications, as pages: the member's choice under the account, and the
unsubscribe link of every mail (a GET asks, a POST unsubscribes: mail scanners fetch links,
people and mail clients press the button)."""

from typing import Annotated

from fastapi import Path, Request

from panamia import pages
from panamia.identity.csrf import authorized_by_its_url
from panamia.identity.dependencies import CurrentUser
from panamia.notifications import emails
from panamia.notifications.models import FREQUENCIES, INSTANT

router = pages.page_router()
CHOICES = {
    "instant": ("Right away", "One email for each thing that needs your answer."),
    "daily": ("Once a day", "One email a day listing what still needs your answer."),
    "off": ("Never", "No email; you still see everything under Notifications."),
}
SAVED = {
    "instant": "You will get an email right away when something needs your answer.",
    "daily": "You will get one email a day when something needs your answer.",
    "off": "You will get no more emails about notifications.",
}
Token = Annotated[str, Path(max_length=128)]


async def settings_page(request: Request, chosen: str, *, status: int = 200, **context):
    return await pages.render(request, "account_email.html", status=status,
                              title="Email about notifications", nav="account",
                              choices=CHOICES, chosen=chosen, labels={"frequency": "How often"},
                              **context)


@router.get("/account/email")
async def email_settings(request: Request, user: CurrentUser):
    resources = pages.resources_of(request)
    return await settings_page(request, await emails.frequency_of(resources, user.id))


@router.post("/account/email")
async def save_email_settings(request: Request, user: CurrentUser):
    chosen = (await pages.read_form(request)).get("frequency", "")
    if chosen not in FREQUENCIES:
        return await settings_page(request, INSTANT, status=422, errors={
            "frequency": "Choose how often we may email you: right away, once a day or never."})
    await emails.set_frequency(pages.resources_of(request), user.id, chosen)
    return pages.redirect(request, "/account/email", notice=SAVED[chosen])


async def unsubscribe_page(request: Request, token: str, *, done: bool, known: bool):
    return await pages.render(request, "unsubscribe.html", status=200 if known else 404,
                              title="Stop emails", token=token, done=done, known=known)


@router.get("/unsubscribe/{token}")
async def confirm_unsubscribe(request: Request, token: Token):
    known = await emails.is_unsubscribe_link(pages.resources_of(request), token)
    return await unsubscribe_page(request, token, done=False, known=known)


@router.post("/unsubscribe/{token}")
@authorized_by_its_url
async def unsubscribe(request: Request, token: Token):
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`, without cookies."""
    known = await emails.unsubscribe(pages.resources_of(request), token)
    return await unsubscribe_page(request, token, done=known, known=known)
