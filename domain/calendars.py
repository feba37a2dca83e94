"""Business calendars of the payment rails, and the two rules between the day a payment is sent (its
execution date) and the day it reaches the payee (its delivery date).

Each rail has its market's holiday calendar (the ``holidays`` package's financial calendars), the days
that calendar lacks, a cut-off in its own time zone, and a lag: how many business days a payment
takes. Where the rail says so, the destination country's public holidays count too. A compiled
calendar is a set of closed days over the supported years, kept in the process: a warm lookup is a few
set probes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from domain.errors import DomainError

FIRST_YEAR, LAST_YEAR = 2020, 2035  # the years the calendars are compiled for
ONE_DAY = timedelta(days=1)


class DateError(DomainError, ValueError):
    """A date no rule can meet, or one outside the calendars' years; the message says what would work."""


@dataclass(frozen=True)
class Rail:
    """A payment rail: its currency, its market's calendar, the days that calendar lacks, its cut-off and
    its lag in business days. ``country_holidays``: the destination country's public holidays close it too."""

    name: str
    currency: str
    market: str  # a financial calendar of the holidays package
    cutoff: time
    zone: str
    lag: int
    country_holidays: bool
    home: str  # the rail's own country (its public holidays are the market's)
    extra: tuple[tuple[int, int], ...] = ()  # (month, day) closed every year beyond the market's calendar


RAILS: dict[str, Rail] = {
    # CNBV's bank closure days: BMV's calendar plus 12 December, on which banks close and the exchange opens
    "SPEI": Rail("SPEI", "MXN", "XMEX", time(17, 30), "America/Mexico_City", 0, False, "MX", ((12, 12),)),
    "SEPA": Rail("SEPA", "EUR", "XECB", time(16, 0), "Europe/Brussels", 1, True, "EU"),
    "SWIFT": Rail("SWIFT", "USD", "XFED", time(17, 0), "America/New_York", 2, True, "US"),
    "FPS": Rail("FPS", "GBP", "XLON", time(23, 0), "Europe/London", 0, False, "GB"),
}


def rail_of_currency(currency: str) -> str | None:
    """The rail a payment in ``currency`` follows, when there is one with a calendar."""
    return next((r.name for r in RAILS.values() if r.currency == currency.strip().upper()), None)


def rail_named(name: str) -> Rail:
    """The rail of this name (SPEI, SEPA, SWIFT, FPS; any case); DateError for another."""
    rail = RAILS.get(name.strip().upper())
    if rail is None:
        raise DateError(f"unknown rail {name!r}; the rails are {', '.join(RAILS)}")
    return rail


@lru_cache(maxsize=256)
def closed_days(rail_name: str, country: str = "") -> frozenset[date]:
    """Every day the rail is closed (weekends aside) for payments to ``country``, over the supported years."""
    rail = RAILS[rail_name]
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    closed = set(holidays.financial_holidays(rail.market, years=years))
    closed.update(date(y, m, d) for y in years for m, d in rail.extra)
    destination = country.strip().upper()
    if rail.country_holidays and destination and destination != rail.home:
        try:
            closed.update(holidays.country_holidays(destination, years=years))
        except NotImplementedError:
            raise DateError(f"no public holiday calendar for country {country!r}") from None
    return frozenset(closed)


def _checked(day: date) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise DateError(f"{day.isoformat()} is outside the calendars' years ({FIRST_YEAR} to {LAST_YEAR})")
    return day


@dataclass(frozen=True)
class Calendar:
    """One rail's business days for payments to one country."""

    rail: Rail
    closed: frozenset[date]

    def is_business_day(self, day: date) -> bool:
        """Not a weekend and not a closure of the rail (or of the destination, where it counts)."""
        return day.weekday() < 5 and day not in self.closed

    def back(self, day: date) -> date:
        """The day itself when it is a business day, else the previous business day."""
        while not self.is_business_day(day):
            day = _checked(day - ONE_DAY)
        return day

    def forward(self, day: date) -> date:
        """The day itself when it is a business day, else the next business day."""
        while not self.is_business_day(day):
            day = _checked(day + ONE_DAY)
        return day

    def add(self, day: date, business_days: int) -> date:
        """``business_days`` business days after (or before, when negative) a business day."""
        step = ONE_DAY if business_days >= 0 else -ONE_DAY
        for _ in range(abs(business_days)):
            day = _checked(day + step)
            while not self.is_business_day(day):
                day = _checked(day + step)
        return day

    def earliest_execution(self, now: datetime) -> date:
        """The first day a payment can still be sent: today before the cut-off (a business day), else the
        next business day."""
        local = now.astimezone(ZoneInfo(self.rail.zone))
        today = _checked(local.date())
        if self.is_business_day(today) and local.time() < self.rail.cutoff:
            return today
        return self.forward(_checked(today + ONE_DAY))

    def sendable(self, execution: date, now: datetime) -> date:
        """``execution`` moved forward to a business day; a DateError naming the earliest execution date
        when that day has passed (or is today after the cut-off)."""
        day = self.forward(_checked(execution))
        earliest = self.earliest_execution(now)
        if day < earliest:
            raise DateError(f"execution date {execution.isoformat()} has passed for {self.rail.name} (cut-off "
                            f"{self.rail.cutoff:%H:%M} {self.rail.zone}); the earliest execution date is "
                            f"{earliest.isoformat()}")
        return day

    def delivery(self, execution: date) -> date:
        """When a payment sent on ``execution`` arrives: forward to a business day, then the rail's lag."""
        return self.add(self.forward(_checked(execution)), self.rail.lag)

    def execution(self, delivery: date, now: datetime | None = None) -> date:
        """When to send a payment for it to arrive by ``delivery``: back to a business day, then back the
        rail's lag. With ``now``, a date already past (or today after the cut-off) is a DateError that
        names the earliest delivery date possible."""
        execution = self.add(self.back(_checked(delivery)), -self.rail.lag)
        if now is not None:
            earliest = self.earliest_execution(now)
            if execution < earliest:
                raise DateError(f"a payment over {self.rail.name} to arrive by {delivery.isoformat()} had to be "
                                f"sent by {execution.isoformat()}, which has passed (cut-off "
                                f"{self.rail.cutoff:%H:%M} {self.rail.zone}); the earliest delivery date is "
                                f"{self.delivery(earliest).isoformat()}")
        return execution


@lru_cache(maxsize=256)
def calendar(rail: str, country: str = "") -> Calendar:
    """The compiled calendar of a rail for payments to ``country`` (kept in the process)."""
    found = rail_named(rail)
    return Calendar(found, closed_days(found.name, country if found.country_holidays else ""))


def dates_of(rail: str | None, currency: str, date_type: str | None, requested: date | None,
             now: datetime) -> tuple[date, date] | None:
    """A payment's execution and delivery dates: from its requested date, read as a delivery or an
    execution date (``date_type``), or the earliest possible when it asked for none. None for a payment
    on no rail that asked for no date (it is paid at once). DateError when the date cannot be met."""
    if rail is None:
        if requested is not None:
            raise DateError(f"no business calendar for {currency}: a date can be met on SPEI (MXN), SEPA (EUR), "
                            "SWIFT (USD) or FPS (GBP)")
        return None
    c = calendar(rail)
    if requested is None:
        execution = c.earliest_execution(now)
    elif date_type == "delivery":
        execution = c.execution(requested, now)
    else:
        execution = c.sendable(requested, now)
    return execution, c.delivery(execution)
