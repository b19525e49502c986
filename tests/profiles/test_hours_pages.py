"""Opening hours on the profile editor and the public page: typed and read in the clock the
member picks, with one row for every weekday."""

import pytest

from tests.fixtures.http import BROWSER, signed_in_member, submit, text_of

WEEKDAY_HOURS = {
    "name": "Ritmo", "active": "on", "sameWeekdays": "on",
    "hours.monday.open": "9am", "hours.monday.close": "5:30 PM",
    "hours.tuesday.open": "10:00", "hours.tuesday.close": "11:00",  # the shortcut wins
    "hours.saturday.open": "10:00", "hours.saturday.close": "14:00",
    "hours.sunday.closed": "on",
}


async def public_hours(client, screenname: str) -> str:
    page = await client.get(f"/people/{screenname}", headers=BROWSER)
    assert page.status_code == 200
    return text_of(page.text)


@pytest.mark.parametrize(("picked", "weekday", "saturday", "editor"), [
    ({}, "9:00 AM – 5:30 PM", "10:00 AM – 2:00 PM",
     ['name="hours.friday.open" value="9:00 AM"', 'name="hours.saturday.close" value="2:00 PM"',
      'id="timeFormat.12h" name="timeFormat" value="12h" checked']),
    ({"timeFormat": "24h"}, "09:00 – 17:30", "10:00 – 14:00",
     ['name="hours.friday.open" value="09:00"', 'name="hours.saturday.close" value="14:00"',
      'id="timeFormat.24h" name="timeFormat" value="24h" checked']),
])
async def test_same_hours_every_weekday_read_in_the_clock_picked(
    client, resources, picked, weekday, saturday, editor
):
    await signed_in_member(client, resources, screenname="ritmo")
    saved = await submit(client, "/account/profile", {**WEEKDAY_HOURS, **picked},
                         page="/account")
    assert saved.status_code == 303

    public = await public_hours(client, "ritmo")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        assert f"{day} {weekday}" in public
    assert f"Saturday {saturday}" in public and "Sunday Closed" in public
    page = (await client.get("/account", headers=BROWSER)).text
    assert all(value in page for value in editor)


async def test_a_time_that_is_not_one_keeps_what_was_typed(client, resources):
    await signed_in_member(client, resources, screenname="tarde")
    typed = {**WEEKDAY_HOURS, "sameWeekdays": "", "hours.tuesday.open": "half past nine"}
    page = await submit(client, "/account/profile", typed, page="/account")
    assert page.status_code == 422
    assert 'value="half past nine"' in page.text
    assert 'id="hours.tuesday.open-error">Enter a time like 9:00 AM or 17:30.' in page.text
