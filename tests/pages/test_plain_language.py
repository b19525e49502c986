"""No page a member reads uses a programmer's words: not on any page of any service, signed
in or out, with the demo community, nor where a form answers bad input; and the API's
validation messages say what to type, with the field's label (docs/pages.md, "Messages")."""

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urljoin

import httpx
import pytest
from pydantic import BaseModel, Field, HttpUrl, ValidationError

from panamia.errors import field_label, plain_message

from tests.fixtures.http import BROWSER
from tests.identity.factories import create_user
from tests.pages.site_crawl import Site
from tests.pets.factories import act_as
from tests.pets.listings.test_listings import BODY as LISTING

TERMS = {
    "[start, end)": re.compile(r"\[start, end\)"),
    "a field name": re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]*)+\b"),  # camelCase: startDate
    "JSON": re.compile(r"\bJSON\b"),
    "IANA": re.compile(r"\bIANA\b"),
    "Pydantic's wording": re.compile(r"Input should be|Field required|Value error"),
    "None": re.compile(r"\bNone\b"),
}
# What each kind of input gets when a form is sent wrong: empty text, unreadable others.
BAD_INPUT = {"number": "abc", "date": "31/02/2026", "time": "25:99", "datetime-local": "soon",
             "email": "not-an-email", "url": "not a web address", "month": "someday"}
TYPED = {"text", "textarea", "search", "tel", "password", *BAD_INPUT}
READ_ALOUD = ("alt", "title", "placeholder", "aria-label")


class Reading(HTMLParser):
    """What a person reads or hears on a page: its text and the attributes read aloud."""

    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.words += [value for name, value in attrs if name in READ_ALOUD and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.words.append(data)


def programmer_terms(html: str) -> list[str]:
    reading = Reading()
    reading.feed(html)
    text = " ".join(" ".join(reading.words).split())
    return [f"{term} ({match.group(0)!r} in …{text[max(0, match.start() - 40):match.end() + 40]}…)"
            for term, pattern in TERMS.items() for match in pattern.finditer(text)]


class Forms(HTMLParser):
    """Each form's action, method and fields (name, kind, value as the page sends it)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.select: str | None = None  # the select whose options are being read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {},
                               "method": (attrs.get("method") or "get").lower()})
        if not self.forms:
            return
        fields, name = self.forms[-1]["fields"], attrs.get("name")
        if tag == "input" and name and (attrs.get("type") not in ("checkbox", "radio")
                                        or "checked" in attrs):
            fields[name] = (attrs.get("type", "text"), attrs.get("value", ""))
        elif tag == "textarea" and name:
            fields[name] = ("textarea", "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and (self.select not in fields
                                                  or "selected" in attrs):
            fields[self.select] = ("select", attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def sent_wrong(form: dict) -> dict[str, str]:
    """The form's fields with typed ones wrong: text empty, the others unreadable."""
    return {name: BAD_INPUT.get(kind, "" if kind in TYPED else value)
            for name, (kind, value) in form["fields"].items()}


async def read(client: httpx.AsyncClient, url: str) -> httpx.Response:
    page = await client.get(url, headers=BROWSER, follow_redirects=True)
    assert page.status_code < 500, f"{url}: {page.status_code}"
    return page


@asynccontextmanager
async def browsers(site: Site) -> AsyncIterator[dict[str | None, httpx.AsyncClient]]:
    """An HTTP client for each demo member, and one signed out (None)."""
    async with AsyncExitStack() as stack:
        yield {member: await stack.enter_async_context(
            httpx.AsyncClient(cookies=site.members.get(member), timeout=30))
            for member in [None, *site.members]}


async def test_no_page_uses_programmer_terms_signed_in_or_out(site: Site):
    found = []
    async with browsers(site) as clients:
        for url, member in site.pages:
            for who in (None, member):
                page = await read(clients[who], url)
                found += [f"{url} ({who or 'signed out'}): {term}"
                          for term in programmer_terms(page.text)]
    assert not found, "\n".join(found)


async def test_no_form_answers_bad_input_with_programmer_terms(site: Site):
    found, sent = [], 0
    async with browsers(site) as clients:
        for url, member in site.pages:
            client = clients[member]
            parser = Forms()
            parser.feed((await read(client, url)).text)
            for form in parser.forms:
                if not any(kind in TYPED for kind, _ in form["fields"].values()):
                    continue  # a button: it signs out, deletes or confirms; nothing to type
                action, data = urljoin(url, form["action"] or url), sent_wrong(form)
                if form["method"] == "post":
                    answer = await client.post(action, data=data, headers=BROWSER,
                                               follow_redirects=True)
                else:
                    answer = await client.get(action, params=data, headers=BROWSER,
                                              follow_redirects=True)
                sent += 1
                assert answer.status_code < 500, f"{url} → {action}: {answer.status_code}"
                found += [f"{url} → {action}: {term}" for term in programmer_terms(answer.text)]
    assert sent >= 10, "the crawl found too few forms to have reached them all"
    assert not found, "\n".join(found)


class Booking(BaseModel):
    start_date: date = Field(alias="startDate", ge=date(2026, 12, 1))
    price_per_day: Decimal = Field(alias="pricePerDay", decimal_places=2)
    kind: Literal["dog_walking", "boarding"]
    website: HttpUrl


class TestPlainMessages:
    def messages(self, body: dict) -> dict[str, tuple[str, str]]:
        with pytest.raises(ValidationError) as refused:
            Booking.model_validate(body)
        return {".".join(map(str, e["loc"])): (field_label(e["loc"]), plain_message(e))
                for e in refused.value.errors()}

    def test_each_kind_of_mistake_says_how_to_fix_it_with_the_fields_label(self):
        assert self.messages({"startDate": "soon", "pricePerDay": "lots", "kind": "walks",
                              "website": "my site"}) == {
            "startDate": ("Start date", "Enter a date, like 2026-12-24."),
            "pricePerDay": ("Price per day", "Enter a number, like 35."),
            "kind": ("Kind", "Choose one of: dog walking or boarding."),
            "website": ("Website", "Enter a web address starting with https://, like "
                                   "https://example.com."),
        }

    def test_bounds_and_places(self):
        assert self.messages({"startDate": "2026-11-30", "pricePerDay": "35.505",
                              "kind": "boarding", "website": "https://example.com"}) == {
            "startDate": ("Start date", "Choose December 1, 2026 or a later date."),
            "pricePerDay": ("Price per day", "Use at most 2 decimal places, like 35.50."),
        }

    def test_a_missing_field(self):
        assert self.messages({})["kind"] == ("Kind", "Fill this in.")


class TestApiMessages:
    async def test_a_bad_number_says_what_to_type_with_the_fields_label(self, pets, client,
                                                                         resources):
        headers = await act_as(pets, client, resources, await create_user(resources))
        answer = await pets.post("/listings", headers=headers,
                                 json={**LISTING, "pricePerDay": "lots", "maxPets": "two"})
        assert answer.status_code == 422
        body = answer.json()
        assert {"field": "maxPets", "message": "Enter a whole number, like 3."} in body["fields"]
        assert "Max pets: Enter a whole number, like 3." in body["detail"]
        assert "Price per day: Enter" in body["detail"]
        assert not programmer_terms(body["detail"])

    async def test_a_missing_field_and_a_wrong_choice(self, pets, client, resources):
        headers = await act_as(pets, client, resources, await create_user(resources))
        listing = {key: value for key, value in LISTING.items() if key != "title"}
        answer = await pets.post("/listings", headers=headers,
                                 json={**listing, "species": ["dragon"]})
        messages = {f["field"]: f["message"] for f in answer.json()["fields"]}
        assert messages["title"] == "Fill this in."
        assert messages["species.0"].startswith("Choose one of: dog")
        assert not programmer_terms(answer.json()["detail"])
