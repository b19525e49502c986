"""Time ranges across both changes of the clocks in America/New_York (2026): hours are real
elapsed hours, days are the owner's local days, bounds are stored in UTC."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from panamia.errors import Invalid
from panamia.rentals import pricing, service
from panamia.rentals.schemas import RentalRequest
from tests.identity.factories import create_user
from tests.profiles.factories import principal
from tests.rentals.factories import NEW_YORK, body, create_item

# Before either change, so that the 2026 dates are still ahead.
NEW_YEAR = datetime(2026, 1, 10, 12, tzinfo=UTC)


def hourly(start: str, end: str) -> pricing.Quote:
    return pricing.quote(datetime.fromisoformat(start), datetime.fromisoformat(end),
                         price=Decimal("10.00"), unit="hour", min_units=1, zone=NEW_YORK)


def daily(start: str, end: str) -> pricing.Quote:
    return pricing.quote(datetime.fromisoformat(start), datetime.fromisoformat(end),
                         price=Decimal("30.00"), unit="day", min_units=1, zone=NEW_YORK)


def test_the_spring_forward_night_is_an_hour_shorter_and_priced_so():
    quote = hourly("2026-03-08T00:00", "2026-03-08T06:00")
    assert quote.units == 5 and quote.fee == Decimal("50.00")
    assert quote.starts_at == datetime(2026, 3, 8, 5, tzinfo=UTC)  # EST, UTC-5
    assert quote.ends_at == datetime(2026, 3, 8, 10, tzinfo=UTC)  # EDT, UTC-4


def test_the_fall_back_night_is_an_hour_longer_and_priced_so():
    quote = hourly("2026-11-01T00:00", "2026-11-01T06:00")
    assert quote.units == 7 and quote.fee == Decimal("70.00")
    assert quote.starts_at == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert quote.ends_at == datetime(2026, 11, 1, 11, tzinfo=UTC)


@pytest.mark.parametrize("start, end, elapsed", [
    ("2026-03-07T10:00", "2026-03-09T10:00", 47), ("2026-10-31T10:00", "2026-11-02T10:00", 49),
])
def test_a_day_is_a_local_day_whatever_its_length(start, end, elapsed):
    quote = daily(start, end)
    assert quote.units == 2 and quote.fee == Decimal("60.00")
    assert (quote.ends_at - quote.starts_at).total_seconds() == elapsed * 3600


def test_a_started_day_or_hour_counts_whole():
    assert daily("2026-06-01T18:00", "2026-06-02T10:00").units == 1
    assert daily("2026-06-01T10:00", "2026-06-02T11:00").units == 2
    assert hourly("2026-06-01T10:00", "2026-06-01T11:15").fee == Decimal("20.00")


def test_a_local_time_the_clocks_skip_is_refused_naming_the_field():
    with pytest.raises(Invalid) as refused:
        hourly("2026-03-08T02:30", "2026-03-08T05:00")
    assert refused.value.fields == ["startsAt"]
    assert "does not exist in America/New_York" in refused.value.detail


def test_the_repeated_hour_is_read_as_its_first_occurrence_and_offsets_are_kept():
    assert hourly("2026-11-01T01:30", "2026-11-01T03:00").starts_at == \
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    second = hourly("2026-11-01T01:30-05:00", "2026-11-01T03:00")
    assert second.starts_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC) and second.units == 2


def test_shorter_than_the_minimum_or_ending_first_is_refused():
    with pytest.raises(Invalid, match="at least 3 hour"):
        pricing.quote(datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 12), price=Decimal(1),
                      unit="hour", min_units=3, zone=NEW_YORK)
    with pytest.raises(Invalid, match="endsAt must come after"):
        hourly("2026-06-01T10:00", "2026-06-01T10:00")


def test_late_hours_are_started_hours_at_the_hourly_rate_and_a_day_is_24_of_them():
    end = datetime(2026, 6, 1, 14, tzinfo=UTC)
    assert pricing.late_fee(end, end, Decimal("5.00")) == 0
    assert pricing.late_fee(end, datetime(2026, 6, 1, 15, 10, tzinfo=UTC),
                            Decimal("5.00")) == Decimal("10.00")
    assert pricing.hourly_rate(Decimal("30.00"), "day") == Decimal("1.25")


@pytest.mark.parametrize("start, end, fee, starts_utc, ends_utc", [
    ("2026-03-08T00:00", "2026-03-08T06:00", "50.00", "2026-03-08T05:00:00Z",
     "2026-03-08T10:00:00Z"),
    ("2026-11-01T00:00", "2026-11-01T06:00", "70.00", "2026-11-01T04:00:00Z",
     "2026-11-01T11:00:00Z"),
])
async def test_a_request_across_a_change_is_stored_in_utc_and_priced_in_elapsed_hours(
    resources, start, end, fee, starts_utc, ends_utc,
):
    item = await create_item(resources, price=Decimal("10.00"), buffer_minutes=30)
    renter = principal(await create_user(resources))
    request = RentalRequest.model_validate(body(item.id, datetime.fromisoformat(start),
                                                end=datetime.fromisoformat(end)))
    answer = await service.request_rental(resources, renter, request, now=NEW_YEAR)
    assert answer.status == 201, answer.body
    assert answer.body["fee"] == fee
    assert answer.body["startsAt"].replace("+00:00", "Z") == starts_utc
    assert answer.body["endsAt"].replace("+00:00", "Z") == ends_utc
    assert answer.body["blockedUntil"] > answer.body["endsAt"]
