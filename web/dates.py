"""GET /api/v1/dates/execution and /delivery: the rails' calendars, as of the web's clock."""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

import falcon

from usecases import dates
from web.routes import COUNTRY, DELIVERY_DATE, EXECUTION_DATE, RAIL


class DatesResource:
    """The execution date of a delivery date, and the delivery date of an execution date."""

    def __init__(self, clock: Callable[[], datetime]):
        self._clock = clock

    def on_get_execution(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = dates.execution_date(RAIL.read(req), COUNTRY.read(req) or "",
                                          date.fromisoformat(DELIVERY_DATE.read(req)), self._clock())

    def on_get_delivery(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = dates.delivery_date(RAIL.read(req), COUNTRY.read(req) or "",
                                         date.fromisoformat(EXECUTION_DATE.read(req)), self._clock())

