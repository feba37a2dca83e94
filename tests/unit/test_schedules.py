"""Disbursement schedules: period keys, month-end anchors, time zones and catch-up after downtime."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from domain.schedules import (
    DisbursementMode as M,
    Schedule,
    ScheduleError,
    due_periods,
    instant_key,
    instant_look,
    manual_key,
)

UTC = timezone.utc
MX = "America/Mexico_City"  # UTC-6 all year since 2022


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def keys(schedule: Schedule, after: datetime, until: datetime, limit: int = 10_000) -> list[str]:
    return [p.key for p in due_periods(schedule, after, until, limit)]


def test_daily_key_and_due_time_in_mexico_city() -> None:
    schedule = Schedule(M.DAILY, time(9, 30))
    periods = due_periods(schedule, utc(2026, 11, 21, 16, 0), utc(2026, 11, 23, 16, 0))
    assert [(p.key, p.due_at.astimezone(UTC)) for p in periods] == [
        ("daily:2026-11-22", utc(2026, 11, 22, 15, 30)), ("daily:2026-11-23", utc(2026, 11, 23, 15, 30))]


def test_period_is_due_exactly_at_its_time_not_before() -> None:
    schedule = Schedule(M.DAILY, time(9, 30))
    due = utc(2026, 11, 22, 15, 30)
    assert keys(schedule, due - timedelta(minutes=1), due) == ["daily:2026-11-22"]
    assert keys(schedule, due - timedelta(minutes=1), due - timedelta(seconds=1)) == []
    assert keys(schedule, due, due + timedelta(hours=1)) == []  # (after, until]: already evaluated at ``after``


def test_daily_key_is_the_local_date() -> None:
    # 23:00 in Mexico City on the 22nd is 05:00 UTC on the 23rd.
    schedule = Schedule(M.DAILY, time(23, 0))
    assert keys(schedule, utc(2026, 11, 23, 0), utc(2026, 11, 23, 6)) == ["daily:2026-11-22"]


def test_hourly_keys_use_the_anchor_minute() -> None:
    schedule = Schedule(M.HOURLY, time(0, 15))
    periods = due_periods(schedule, utc(2026, 11, 23, 5, 0), utc(2026, 11, 23, 8, 0))
    assert [p.key for p in periods] == ["hourly:2026-11-22T23", "hourly:2026-11-23T00", "hourly:2026-11-23T01"]
    assert [p.due_at.astimezone(UTC) for p in periods] == [utc(2026, 11, 23, h, 15) for h in (5, 6, 7)]


def test_hourly_over_a_local_midnight_and_a_whole_day() -> None:
    schedule = Schedule(M.HOURLY)
    found = keys(schedule, utc(2026, 11, 23, 6), utc(2026, 11, 24, 6))
    assert len(found) == 24 and len(set(found)) == 24
    assert found[0] == "hourly:2026-11-23T01" and found[-1] == "hourly:2026-11-24T00"


@pytest.mark.parametrize(("weekday", "after", "until", "expected"), [
    (0, utc(2026, 11, 22), utc(2026, 11, 30), ["weekly:2026-W48"]),          # Monday 23 Nov 2026
    (0, utc(2024, 12, 29), utc(2025, 1, 2), ["weekly:2025-W01"]),            # Monday 30 Dec 2024 is ISO 2025-W01
    (6, utc(2027, 1, 1), utc(2027, 1, 5), ["weekly:2026-W53"]),              # Sunday 3 Jan 2027 is ISO 2026-W53
    (0, utc(2026, 12, 27), utc(2026, 12, 30), ["weekly:2026-W53"]),          # 2026 has 53 ISO weeks
    (4, utc(2026, 11, 1), utc(2026, 11, 29), [f"weekly:2026-W{w}" for w in (45, 46, 47, 48)]),
])
def test_weekly_iso_week_keys(weekday: int, after: datetime, until: datetime, expected: list[str]) -> None:
    assert keys(Schedule(M.WEEKLY, time(12, 0), weekday=weekday), after, until) == expected


def test_weekly_is_due_on_its_weekday_local_time() -> None:
    (period,) = due_periods(Schedule(M.WEEKLY, time(8, 0), weekday=2), utc(2026, 11, 22), utc(2026, 11, 29))
    local = period.due_at.astimezone(Schedule(M.WEEKLY).tz)
    assert (local.weekday(), local.hour) == (2, 8) and local.date().isoformat() == "2026-11-25"


def monthly_due_days(anchor: int, year: int) -> list[tuple[str, int]]:
    schedule = Schedule(M.MONTHLY, time(10, 0), day_of_month=anchor)
    periods = due_periods(schedule, utc(year, 1, 1), utc(year + 1, 1, 1))
    return [(p.key, p.due_at.astimezone(schedule.tz).day) for p in periods]


@pytest.mark.parametrize("anchor", [29, 30, 31])
def test_monthly_anchor_falls_back_to_the_months_last_day(anchor: int) -> None:
    due = dict(monthly_due_days(anchor, 2026))
    assert len(due) == 12
    assert due["monthly:2026-02"] == 28
    assert due["monthly:2026-04"] == min(anchor, 30) and due["monthly:2026-06"] == min(anchor, 30)
    assert due["monthly:2026-01"] == anchor and due["monthly:2026-12"] == anchor


@pytest.mark.parametrize(("anchor", "feb_day"), [(28, 28), (29, 29), (30, 29), (31, 29)])
def test_monthly_anchor_in_a_leap_february(anchor: int, feb_day: int) -> None:
    assert dict(monthly_due_days(anchor, 2028))["monthly:2028-02"] == feb_day


def test_monthly_anchor_on_the_first() -> None:
    assert [day for _, day in monthly_due_days(1, 2026)] == [1] * 12


def test_store_in_another_time_zone() -> None:
    # 09:00 in Tokyo (UTC+9) is 00:00 UTC; the key is Tokyo's date.
    tokyo = Schedule(M.DAILY, time(9, 0), timezone="Asia/Tokyo")
    periods = due_periods(tokyo, utc(2026, 11, 22, 12), utc(2026, 11, 23, 12))
    assert [(p.key, p.due_at.astimezone(UTC)) for p in periods] == [("daily:2026-11-23", utc(2026, 11, 23, 0))]
    mexico = Schedule(M.DAILY, time(9, 0))
    assert keys(mexico, utc(2026, 11, 22, 12), utc(2026, 11, 23, 12)) == ["daily:2026-11-22"]


def test_time_zone_with_daylight_saving() -> None:
    # Madrid is UTC+1 in winter and UTC+2 in summer: 10:00 local moves in UTC, the key does not.
    madrid = Schedule(M.DAILY, time(10, 0), timezone="Europe/Madrid")
    winter = due_periods(madrid, utc(2026, 1, 15, 0), utc(2026, 1, 15, 23))
    summer = due_periods(madrid, utc(2026, 7, 15, 0), utc(2026, 7, 15, 23))
    assert [(p.key, p.due_at.astimezone(UTC).hour) for p in winter + summer] == [
        ("daily:2026-01-15", 9), ("daily:2026-07-15", 8)]


def test_unknown_time_zone_and_bad_anchors_are_rejected() -> None:
    with pytest.raises(ScheduleError):
        Schedule(M.DAILY, timezone="Mars/Olympus_Mons")
    with pytest.raises(ScheduleError):
        Schedule(M.WEEKLY, weekday=7)
    with pytest.raises(ScheduleError):
        Schedule(M.MONTHLY, day_of_month=0)
    with pytest.raises(ScheduleError):
        Schedule(M.MONTHLY, day_of_month=32)


def test_an_instant_stores_daily_look_is_due_at_its_time_of_day_and_only_within_the_window() -> None:
    store = Schedule(M.INSTANT, time_of_day=time(23, 30), timezone=MX)
    look = instant_look(store, utc(2026, 11, 25, 5, 40))  # 23:40 on the 24th in Mexico City
    assert look is not None and look.key == "instant:2026-11-24" and look.due_at == utc(2026, 11, 25, 5, 30)
    assert instant_look(store, utc(2026, 11, 25, 6, 20)) == look  # 00:20 on the 25th: still the 24th's look
    assert instant_look(store, utc(2026, 11, 25, 6, 30)) is None  # the window has closed
    assert instant_look(store, utc(2026, 11, 25, 5, 29)) is None  # not due yet
    assert instant_look(store, utc(2026, 11, 25, 15, 0)) is None  # money freed at 09:00 waits for tonight


def test_instant_has_no_periods() -> None:
    assert due_periods(Schedule(M.INSTANT), utc(2026, 1, 1), utc(2027, 1, 1)) == []
    assert instant_key(42) == "instant:bu-42"
    assert instant_key(43) != instant_key(42)


def test_manual_keys_are_unique_per_request_even_within_a_second() -> None:
    at = utc(2026, 11, 23, 15, 4, 5, 6)
    first = manual_key(at, "3f2a9c1e-77b0-4d1e-9a5b-0c6d2e8f1a2b")
    assert first == "manual:20261123T150405:3f2a9c1e77b0"
    assert manual_key(at, "9b1c0d2e-0000-4000-8000-000000000000") != first


def test_empty_or_reversed_window_has_no_periods() -> None:
    schedule = Schedule(M.HOURLY)
    assert due_periods(schedule, utc(2026, 1, 2), utc(2026, 1, 2)) == []
    assert due_periods(schedule, utc(2026, 1, 2), utc(2026, 1, 1)) == []


def test_catch_up_after_downtime_returns_each_missed_period_once() -> None:
    # The scheduler last evaluated on Friday 20 Nov 2026 and came back on Tuesday 24 Nov.
    daily = Schedule(M.DAILY, time(0, 0))
    missed = keys(daily, utc(2026, 11, 20, 7), utc(2026, 11, 24, 7))
    assert missed == [f"daily:2026-11-{d}" for d in (21, 22, 23, 24)]


def test_catch_up_respects_the_limit_keeping_the_most_recent() -> None:
    hourly = Schedule(M.HOURLY)
    everything = due_periods(hourly, utc(2026, 11, 20), utc(2026, 11, 24))
    assert len(everything) == 96
    assert due_periods(hourly, utc(2026, 11, 20), utc(2026, 11, 24), limit=5) == everything[-5:]
    assert due_periods(hourly, utc(2026, 11, 20), utc(2026, 11, 24), limit=1) == everything[-1:]


def test_limit_zero_returns_nothing() -> None:
    assert due_periods(Schedule(M.HOURLY), utc(2026, 11, 20), utc(2026, 11, 24), limit=0) == []


# --- properties -------------------------------------------------------------------------------------------------

ZONES = [MX, "America/Tijuana", "America/New_York", "Europe/Madrid", "Asia/Tokyo", "UTC", "Asia/Kolkata"]
schedules = st.builds(
    Schedule,
    mode=st.sampled_from([M.HOURLY, M.DAILY, M.WEEKLY, M.MONTHLY]),
    time_of_day=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    weekday=st.integers(0, 6),
    day_of_month=st.integers(1, 31),
    timezone=st.sampled_from(ZONES),
)
instants = st.datetimes(datetime(2024, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC))


def window(schedule: Schedule) -> st.SearchStrategy[timedelta]:
    days = 6 if schedule.mode == M.HOURLY else 120
    return st.timedeltas(timedelta(0), timedelta(days=days))


@settings(max_examples=150, deadline=None)
@given(schedules, instants, st.data())
def test_splitting_the_downtime_anywhere_finds_the_same_periods_once(schedule: Schedule, after: datetime, data) -> None:
    """Evaluating (a, b] then (b, c] yields exactly the periods of (a, c]: none lost, none twice."""
    until = after + data.draw(window(schedule))
    middle = after + data.draw(st.timedeltas(timedelta(0), until - after))
    whole = due_periods(schedule, after, until, limit=10_000)
    assert due_periods(schedule, after, middle, 10_000) + due_periods(schedule, middle, until, 10_000) == whole
    assert len({p.key for p in whole}) == len(whole)
    assert all(after < p.due_at <= until for p in whole)
    assert [p.due_at for p in whole] == sorted(p.due_at for p in whole)
    assert all(p.key.startswith(f"{schedule.mode.value}:") for p in whole)


@settings(max_examples=60, deadline=None)
@given(schedules.filter(lambda s: s.mode != M.HOURLY), instants, st.integers(1, 5))
def test_limit_keeps_the_most_recent(schedule: Schedule, after: datetime, limit: int) -> None:
    until = after + timedelta(days=100)
    everything = due_periods(schedule, after, until, limit=10_000)
    assert due_periods(schedule, after, until, limit=limit) == everything[-limit:]
