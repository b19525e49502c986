"""The site's header links to every installed sidecar, on the main app's pages and on each
sidecar's, and marks the one being visited."""

import re

import pytest

from panamia.sidecar import registry
from tests.fixtures.http import BROWSER, asgi_client

MAIN_NAV = re.compile(r'<nav aria-label="Main">.*?</nav>', re.S)


def menu(html: str) -> str:
    return MAIN_NAV.search(html).group(0)


async def test_the_main_apps_header_links_every_sidecar(client, settings):
    header = menu((await client.get("/directory", headers=BROWSER)).text)
    for label, sidecar in (("Pet sitting", "pets"), ("Exchange", "exchange"),
                           ("Rentals", "rentals")):
        url = next(s for s in registry.discover() if s.name == sidecar).url(settings)
        assert f'<a href="{url}/">{label}</a>' in header


@pytest.mark.parametrize("name, label", [("exchange", "Exchange"), ("rentals", "Rentals"),
                                         ("pets", "Pet sitting")])
async def test_a_sidecars_pages_mark_it_current(settings, resources, name, label):
    sidecar = next(s for s in registry.discover() if s.name == name)
    async with asgi_client(registry.create_app(sidecar, settings, resources)) as client:
        page = await client.get("/", headers=BROWSER)
    assert page.status_code == 200
    header = menu(page.text)
    assert f'aria-current="page">{label}</a>' in header
    assert header.count('aria-current="page"') == 1
    assert "Exchange" in header and "Rentals" in header and "Pet sitting" in header
