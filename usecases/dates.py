"""Delivery and execution dates: when to send a payment for it to arrive on a given day, and when one
sent on a given day arrives, by the rail's calendar (no unit of work: calendars are compiled in the
process)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.calendars import Calendar, DateError, calendar
from usecases.errors import Invalid


def _calendar(rail: str, country: str) -> Calendar:
    try:
        return calendar(rail, country)
    except DateError as e:
        raise Invalid(str(e)) from None


def execution_date(rail: str, country: str, delivery: date, now: datetime) -> dict[str, Any]:
    """The execution date for ``delivery``; Invalid (with the earliest delivery date possible) when it has
    passed or is today after the rail's cut-off."""
    c = _calendar(rail, country)
    try:
        execution = c.execution(delivery, now)
    except DateError as e:
        raise Invalid(str(e)) from None
    return _answer(c, country, execution, c.delivery(execution), delivery)


def delivery_date(rail: str, country: str, execution: date, now: datetime) -> dict[str, Any]:
    """The delivery date of a payment sent on ``execution`` (moved to the rail's next business day); Invalid
    when that day has passed."""
    c = _calendar(rail, country)
    try:
        sent = c.sendable(execution, now)
        delivery = c.delivery(sent)
    except DateError as e:
        raise Invalid(str(e)) from None
    return _answer(c, country, sent, delivery, None)


def _answer(c: Calendar, country: str, execution: date, delivery: date, requested: date | None) -> dict[str, Any]:
    rail = c.rail
    out = {"rail": rail.name, "country": country.upper() or None, "currency": rail.currency,
           "execution_date": execution.isoformat(), "delivery_date": delivery.isoformat(), "lag_days": rail.lag,
           "cutoff": f"{rail.cutoff:%H:%M}", "cutoff_zone": rail.zone}
    if requested is not None:
        out["requested_delivery_date"] = requested.isoformat()
    return out
