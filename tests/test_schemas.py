"""Names and titles are one visible line: format characters (Unicode Cf), control characters
and line breaks are refused where they come in, naming the field and the character."""

import pytest

from panamia.schemas import single_line_problem
from tests.identity.factories import create_user, csrf_headers, sign_in_as
from tests.pets.factories import act_as
from tests.pets.listings.test_listings import BODY as LISTING

HIDDEN = [
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE is not allowed"),
    ("\u200b", "U+200B ZERO WIDTH SPACE is not allowed"),
    ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE is not allowed"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE is not allowed"),
    ("\n", "U+000A CONTROL CHARACTER is not allowed"),
]


def refused(response, field: str, message: str) -> bool:
    return response.status_code == 422 and {"field": field, "message": f"{message}."} \
        in response.json()["fields"]


@pytest.mark.parametrize(("character", "message"), HIDDEN)
@pytest.mark.parametrize(("method", "path", "field"), [
    ("POST", "/api/articles", "title"), ("PATCH", "/api/profile", "name"),
])
async def test_an_article_title_and_a_profile_name(client, resources, method, path, field,
                                                   character, message):
    await sign_in_as(client, resources, await create_user(resources))
    response = await client.request(method, path, headers=await csrf_headers(client),
                                     json={field: f"Caf{character}é Luna"})
    assert refused(response, field, message), response.text


@pytest.mark.parametrize(("character", "message"), HIDDEN)
async def test_a_listing_title(pets, client, resources, character, message):
    headers = await act_as(pets, client, resources, await create_user(resources))
    response = await pets.post("/listings", headers=headers,
                               json={**LISTING, "title": f"Sunny {character}flat"})
    assert refused(response, "title", message), response.text


@pytest.mark.parametrize("text", [
    "Ana Rodríguez", "Lakay Kitchen 🇭🇹", "👩\u200d🍳 Chef Ana", "می\u200cخواهم", "हिन्दी",
])
def test_visible_text_and_joiners_between_letters_are_kept(text):
    assert single_line_problem(text) is None


@pytest.mark.parametrize("text", ["\u200dAna", "Ana\u200c", "Ana \u200d Sol", "a\u200d\u200db"])
def test_a_joiner_with_nothing_to_join_is_refused(text):
    assert "JOINER is not allowed" in single_line_problem(text)
