"""Every HTML form of both services, sent hostile text by a signed-in browser with a valid
CSRF token, answers without a 5xx.

The forms are outside the OpenAPI documents, so schemathesis never reaches them. Each
hostile value goes into every field a form's page offers at once; then hypothesis mixes
them, filling some of the fields (and a few the page does not offer) with text a browser
could send: NUL, lone surrogates, right-to-left overrides, emoji, 200,000 characters,
numbers JSON has not, dates at the calendar's edges, a URL urlsplit cannot read; the body
is sent as a form, or labelled as multipart without a boundary, JSON or plain text.
Signing out and deleting the account are left out: they end the session the other
examples need.
"""

import re
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from panamia.pets.listings import service as listings_service
from panamia.pets.listings.schemas import BlackoutCreate
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, csrf_token
from tests.identity.factories import sign_in_as
from tests.pets.bookings.factories import FIRST_NIGHT, create_booking
from tests.pets.factories import create_listing
from tests.profiles.factories import create_member, principal

HOSTILE = [
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "é", "\u202eevil", "😀" * 50, "x" * 200_000,
    "NaN", "Infinity", "-1", "1e309", "99999999999999999999", "0", "0001-01-01",
    "9999-12-31", "2026-02-30", "http://[x", "javascript:alert(1)", "../../etc/passwd",
    "<script>alert(1)</script>", "%", "a,,b,", "true", "null", "[]", "{}", "x" * 5001,
]
# Names no page offers, or offers only on another form.
OTHER_NAMES = ["title", "body", "tags", "slug", "email", "screenname", "name", "bio",
               "pricePerDay", "startDate", "endDate", "step", "rating", "comment", "month",
               "hours.monday.open", "socialLinks.customLinks.0.url", "extra", "csrfToken2"]
CONTENT_TYPES = ["application/x-www-form-urlencoded"] * 4 + [
    "multipart/form-data", "multipart/form-data; boundary=x", "application/json", "text/plain"]
NAME = re.compile(r'name="([^"]+)"')


@pytest.fixture
async def world(client, pets, resources) -> dict[str, str]:
    """Both clients signed in as someone with a screenname, an article, a listing with a
    blackout, and a booking on each side (as owner and as sitter)."""
    me = await create_member(resources, screenname="fuzzer", name="Fuzz", active=True)
    await sign_in_as(client, resources, me)
    await sign_in_as(pets, resources, me)
    mine = await create_listing(resources, sitter_id=me)
    theirs = await create_listing(resources)
    as_owner = await create_booking(resources, listing=theirs, owner_id=me)
    await create_booking(resources, listing=mine)
    nights = BlackoutCreate(start_date=FIRST_NIGHT + timedelta(days=10),
                            end_date=FIRST_NIGHT + timedelta(days=12))
    blackout = await listings_service.add_blackout(resources, principal(me), mine.id, nights)
    return {"slug": await create_article(resources, me), "mine": mine.id, "theirs": theirs.id,
            "booking": as_owner.id, "blackout": blackout.id}


# (service, the page holding the form, the form's action)
FORMS = [
    ("main", "/signin", "/signin"),
    ("main", "/account/screenname", "/account/screenname"),
    ("main", "/account", "/account/profile"),
    ("main", "/articles/new", "/articles/new"),
    ("main", "/articles/{slug}/edit", "/articles/{slug}/edit"),
    ("main", "/articles/{slug}", "/articles/{slug}/publish"),
    ("main", "/articles/{slug}", "/articles/{slug}/co-authors/leave"),
    ("main", "/notifications", "/notifications/read-all"),
    ("pets", "/listings/new", "/listings/new"),
    ("pets", "/listings/{mine}/edit", "/listings/{mine}/edit"),
    ("pets", "/listings/{theirs}", "/listings/{theirs}/book"),
    ("pets", "/listings/{mine}", "/listings/{mine}/blackouts/add"),
    ("pets", "/listings/{mine}", "/listings/{mine}/blackouts/{blackout}/remove"),
    ("pets", "/bookings", "/bookings/{booking}/step"),
    ("pets", "/bookings/{booking}/review", "/bookings/{booking}/review"),
]


EACH_FORM = pytest.mark.parametrize(("service", "page", "action"), FORMS,
                                    ids=[form[2] for form in FORMS])


def hostile_forms(names: list[str]):
    value = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=50))
    return st.tuples(
        st.lists(st.tuples(st.sampled_from(names), value), max_size=12),
        st.sampled_from(CONTENT_TYPES),
    )


def encoded(fields: list[tuple[str, str]], token: str) -> bytes:
    """As a browser encodes a form; lone surrogates as the bytes of their code points,
    which are not UTF-8."""
    return urlencode([("csrfToken", token), *fields], errors="surrogatepass").encode()


async def offered(browser: httpx.AsyncClient, page: str) -> tuple[list[str], str]:
    """The field names the page offers (with some it does not), and its forms' token."""
    opened = await browser.get(page, headers=BROWSER)
    if opened.status_code != 200:  # a page that is not for this booking yet: any page's token
        opened = await browser.get("/bookings", headers=BROWSER)
    names = set(NAME.findall(opened.text)) - {"csrfToken"} | set(OTHER_NAMES)
    return sorted(names), csrf_token(opened.text)


async def send(browser: httpx.AsyncClient, action: str, fields: list[tuple[str, str]],
               token: str, content_type: str = CONTENT_TYPES[0]) -> None:
    response = await browser.post(action, content=encoded(fields, token),
                                  headers={**BROWSER, "content-type": content_type})
    assert response.status_code < 500, (fields, content_type, response.text[:2000])


@EACH_FORM
async def test_every_field_takes_each_hostile_value(client, pets, world, service, page,
                                                    action):
    """One request per hostile value, in every field the page offers at once."""
    browser = client if service == "main" else pets
    names, token = await offered(browser, page.format(**world))
    for value in HOSTILE:
        await send(browser, action.format(**world), [(name, value) for name in names], token)


@pytest.fixture
def opened() -> dict:
    return {}


@settings(max_examples=15, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
@EACH_FORM
async def test_mixed_hostile_fields_never_answer_5xx(client, pets, world, opened, service,
                                                     page, action, data):
    browser = client if service == "main" else pets
    if page not in opened:
        opened[page] = await offered(browser, page.format(**world))
    names, token = opened[page]
    fields, content_type = data.draw(hostile_forms(names))
    await send(browser, action.format(**world), fields, token, content_type)
