"""Disbursement schedules: when a store's trigger is due, and the period key of each evaluation."""
from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

from domain.errors import DomainError

DEFAULT_TIMEZONE = "America/Mexico_City"
MANUAL = "manual:"


class DisbursementMode(str, enum.Enum):
    """How often a store's trigger is due: on each contribution (instant), hourly, daily, weekly or monthly."""

    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ScheduleError(DomainError, ValueError):
    """A schedule whose anchors do not fit its mode."""


@dataclass(frozen=True)
class Schedule:
    """A store's disbursement mode with its anchors, read in the store's time zone.

    weekday: 0 = Monday. day_of_month: 1..31; 29-31 fall back to the month's last day.
    minute: the minute past the hour at which an hourly trigger is due.
    """

    mode: DisbursementMode
    time_of_day: time = time(0, 0)
    weekday: int = 0
    day_of_month: int = 1
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ScheduleError("weekday is 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.day_of_month <= 31:
            raise ScheduleError("day of month is 1 to 31")
        try:
            ZoneInfo(self.timezone)
        except Exception:
            raise ScheduleError(f"unknown time zone {self.timezone!r}") from None

    @property
    def tz(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, order=True)
class Period:
    """One due evaluation: when it became due (UTC-aware) and its unique key."""

    due_at: datetime
    key: str


def _monthly_day(year: int, month: int, anchor: int) -> int:
    return min(anchor, calendar.monthrange(year, month)[1])


def _local(d: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, t, tzinfo=tz)


def _due_in_local_day(schedule: Schedule, day: date) -> Iterator[Period]:
    tz = schedule.tz
    mode = schedule.mode
    if mode == DisbursementMode.HOURLY:
        for hour in range(24):
            at = _local(day, time(hour, schedule.time_of_day.minute), tz)
            yield Period(at, f"hourly:{day.isoformat()}T{hour:02d}")
    elif mode == DisbursementMode.DAILY:
        yield Period(_local(day, schedule.time_of_day, tz), f"daily:{day.isoformat()}")
    elif mode == DisbursementMode.WEEKLY:
        if day.weekday() == schedule.weekday:
            iso = day.isocalendar()
            yield Period(_local(day, schedule.time_of_day, tz), f"weekly:{iso.year}-W{iso.week:02d}")
    elif mode == DisbursementMode.MONTHLY:
        if day.day == _monthly_day(day.year, day.month, schedule.day_of_month):
            yield Period(_local(day, schedule.time_of_day, tz), f"monthly:{day.year}-{day.month:02d}")


def due_periods(schedule: Schedule, after: datetime, until: datetime, limit: int = 100) -> list[Period]:
    """Periods due in (after, until], oldest first, at most ``limit`` of the most recent.

    Instant stores have no periods: they are evaluated when a contribution arrives.
    """
    if schedule.mode == DisbursementMode.INSTANT or until <= after:
        return []
    tz = schedule.tz
    day = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date()
    found: list[Period] = []
    while day <= last:
        found.extend(p for p in _due_in_local_day(schedule, day) if after < p.due_at <= until)
        day += timedelta(days=1)
    return found[-limit:] if limit > 0 else []


def mode_of_key(key: str) -> DisbursementMode | None:
    """The disbursement mode a period key belongs to (``daily:2026-11-22`` is daily); None for a manual key."""
    prefix = key.split(":", 1)[0]
    try:
        return DisbursementMode(prefix)
    except ValueError:
        return None


def instant_key(balance_update_id: int) -> str:
    """The period key of an instant store's evaluation after the balance update with this id."""
    return f"instant:bu-{balance_update_id}"


def instant_catch_up_key(day: date) -> str:
    """The daily look of an instant store at money freed since its last contribution."""
    return f"instant:{day.isoformat()}"


INSTANT_LOOK_WINDOW = timedelta(hours=1)


def instant_look(schedule: Schedule, now: datetime, window: timedelta = INSTANT_LOOK_WINDOW) -> Period | None:
    """The instant store's daily look at money freed since its last contribution (a cancelled or returned
    transfer, an adjustment), when ``now`` falls within ``window`` after it. It is due at the store's
    time of day in its zone; money freed after the window waits for the next day's look, so that an
    account the bank just refused is tried at most once a day, not at the scheduler's next tick."""
    tz = schedule.tz
    today = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):  # a look late in the day runs past midnight
        due = _local(day, schedule.time_of_day, tz)
        if due <= now < due + window:
            return Period(due, instant_catch_up_key(day))
    return None


def manual_key(at: datetime, request_id: str) -> str:
    """A treasury request outside the schedule: unique per request, readable by time."""
    return f"{MANUAL}{at.strftime('%Y%m%dT%H%M%S')}:{request_id.replace('-', '')[:12]}"


def is_manual_key(key: str) -> bool:
    """Treasury asked for this transfer itself, so the store's automation switch does not apply."""
    return key.startswith(MANUAL)
