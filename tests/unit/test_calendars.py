"""The rails' business calendars and the execution/delivery rules, both ways, over year boundaries, long
weekends and Easter; properties over every rail and many dates."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from domain.calendars import FIRST_YEAR, LAST_YEAR, RAILS, DateError, calendar

UTC = timezone.utc


@pytest.mark.parametrize("rail, country, delivery, execution", [
    ("SPEI", "", date(2025, 12, 12), date(2025, 12, 11)),    # CNBV closes banks on 12 December; BMV does not
    ("SPEI", "", date(2026, 4, 3), date(2026, 4, 1)),        # Good Friday, then Holy Thursday
    ("SPEI", "", date(2026, 11, 2), date(2026, 10, 30)),     # Day of the Dead on a Monday
    ("SPEI", "", date(2027, 1, 1), date(2026, 12, 31)),      # New Year
    ("SWIFT", "", date(2027, 1, 1), date(2026, 12, 29)),     # back to Thursday the 31st, then two business days
    ("SWIFT", "", date(2026, 11, 27), date(2026, 11, 24)),   # the day after Thanksgiving: Thanksgiving is closed
    ("SEPA", "", date(2026, 4, 6), date(2026, 4, 1)),        # Easter Monday, Good Friday, then a day's lag
    ("SEPA", "DE", date(2025, 10, 6), date(2025, 10, 2)),    # Germany's Unity Day, Friday 3 October, counts
    ("SEPA", "", date(2025, 10, 6), date(2025, 10, 3)),      # for TARGET2 alone it is a business day
    ("FPS", "", date(2026, 4, 6), date(2026, 4, 2)),         # the Easter long weekend
    ("FPS", "", date(2026, 12, 28), date(2026, 12, 24)),     # Boxing Day observed on Monday the 28th
])
def test_execution_from_delivery(rail: str, country: str, delivery: date, execution: date) -> None:
    assert calendar(rail, country).execution(delivery) == execution


@pytest.mark.parametrize("rail, execution, delivery", [
    ("SPEI", date(2025, 12, 12), date(2025, 12, 15)),   # closed: forward to Monday
    ("SWIFT", date(2026, 12, 31), date(2027, 1, 5)),    # over New Year, two business days
    ("SEPA", date(2026, 12, 24), date(2026, 12, 28)),   # Christmas and St Stephen's are TARGET2 closures
    ("FPS", date(2026, 4, 3), date(2026, 4, 7)),        # Good Friday: forward past Easter Monday
])
def test_delivery_from_execution(rail: str, execution: date, delivery: date) -> None:
    assert calendar(rail).delivery(execution) == delivery


def test_a_date_already_past_or_today_after_the_cut_off_names_the_earliest_delivery() -> None:
    spei = calendar("SPEI")
    before = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)   # 17:00 in Mexico City, a Tuesday
    after = datetime(2026, 12, 1, 23, 45, tzinfo=UTC)   # 17:45
    assert spei.execution(date(2026, 12, 1), before) == date(2026, 12, 1)
    with pytest.raises(DateError, match="earliest delivery date is 2026-12-02"):
        spei.execution(date(2026, 12, 1), after)
    with pytest.raises(DateError, match="earliest delivery date is 2026-12-03"):
        calendar("SEPA").execution(date(2026, 12, 2), datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 17:00 Brussels
    assert calendar("SWIFT").execution(date(2026, 12, 7), before) == date(2026, 12, 3)


def test_unknown_rails_countries_and_years_are_refused() -> None:
    with pytest.raises(DateError, match="unknown rail"):
        calendar("ACH")
    with pytest.raises(DateError, match="no public holiday calendar"):
        calendar("SEPA", "ZZ")
    with pytest.raises(DateError, match="outside the calendars' years"):
        calendar("SPEI").execution(date(LAST_YEAR + 1, 3, 2))
    with pytest.raises(DateError, match="outside the calendars' years"):
        calendar("SWIFT").execution(date(FIRST_YEAR, 1, 1))  # two business days back leave 2020


days = st.dates(min_value=date(FIRST_YEAR, 2, 1), max_value=date(LAST_YEAR, 11, 30))
rails = st.sampled_from(sorted(RAILS))
countries = st.sampled_from(["", "DE", "FR", "MX", "US", "GB", "ES"])


@settings(max_examples=400, deadline=None)
@given(rails, countries, days)
def test_executing_on_the_computed_date_never_delivers_after_the_requested_date(rail: str, country: str,
                                                                                 delivery: date) -> None:
    c = calendar(rail, country)
    execution = c.execution(delivery)
    assert c.is_business_day(execution) and execution <= delivery
    arrives = c.delivery(execution)
    assert arrives <= delivery and c.is_business_day(arrives)
    assert arrives == c.back(delivery)  # as late as the rail allows: the last business day by then


@settings(max_examples=400, deadline=None)
@given(rails, countries, days)
def test_the_two_rules_are_each_others_reverse_on_business_days(rail: str, country: str, execution: date) -> None:
    c = calendar(rail, country)
    sent = c.forward(execution)
    assert c.execution(c.delivery(execution)) == sent
    assert (c.delivery(execution) - sent) >= timedelta(days=c.rail.lag)
