"""``dispersa dates execution|delivery``: the rails' calendars from the command line. Each prints only the
ISO date; ``--as-of`` sets "today" (at its first minute, in the rail's zone) for the past-date and cut-off
rules, so that fixed cases give fixed answers."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

import typer

from workers.cli_support import fail

dates_app = typer.Typer(help="Execution and delivery dates by the rails' business calendars.", no_args_is_help=True)
RAIL_HELP = "SPEI (MXN), SEPA (EUR), SWIFT (USD) or FPS (GBP)"
COUNTRY_HELP = "the destination country (ISO 3166 alpha-2), whose public holidays count where the rail says so"
AS_OF_HELP = "YYYY-MM-DD taken as today for the past-date and cut-off rules (default: now)"


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date YYYY-MM-DD")


def _now(rail: str, as_of: Optional[str]) -> datetime:
    from domain.calendars import DateError, rail_named

    try:
        zone = ZoneInfo(rail_named(rail).zone)
    except DateError as e:
        fail(str(e))
    if as_of is None:
        return datetime.now(zone)
    return datetime.combine(_day(as_of, "--as-of"), time(0, 0), zone)


def _run(compute: Callable[[], dict[str, Any]], field: str) -> None:
    from usecases.errors import Invalid

    try:
        print(compute()[field])
    except Invalid as e:
        fail(str(e))


@dates_app.command("execution")
def dates_execution(rail: str = typer.Option(..., help=RAIL_HELP),
                    country: str = typer.Option("", help=COUNTRY_HELP),
                    delivery_date: str = typer.Option(..., "--delivery-date", help="the day the payment must arrive"),
                    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP)) -> None:
    """The day to send a payment for it to arrive on --delivery-date."""
    from usecases import dates

    delivery, now = _day(delivery_date, "--delivery-date"), _now(rail, as_of)
    _run(lambda: dates.execution_date(rail, country, delivery, now), "execution_date")


@dates_app.command("delivery")
def dates_delivery(rail: str = typer.Option(..., help=RAIL_HELP),
                   country: str = typer.Option("", help=COUNTRY_HELP),
                   execution_date: str = typer.Option(..., "--execution-date", help="the day the payment is sent"),
                   as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP)) -> None:
    """The day a payment sent on --execution-date arrives."""
    from usecases import dates

    execution, now = _day(execution_date, "--execution-date"), _now(rail, as_of)
    _run(lambda: dates.delivery_date(rail, country, execution, now), "delivery_date")
