"""The bank's side of the API: STP's order-status webhook and the day's reconciliation."""
from __future__ import annotations

import hmac
import logging
from datetime import date, datetime, timedelta
from typing import Callable

import falcon
from sqlalchemy.exc import IntegrityError

from adapters.counters import MinuteCounter
from adapters.db.errors import is_duplicate
from adapters.db.uow import UnitOfWork
from domain.reconciliation import reconcilable
from domain.stp import operation_date
from usecases import bank_events, queries, scheduling
from usecases.errors import NotFound
from web import context as ctx
from web.routes import OPERATION_DATE, STP_ORDER_STATUS
from web.schema import invalid

log = logging.getLogger("dispersa.web.bank")
UowFactory = Callable[[], UnitOfWork]
RECEIVED = {"mensaje": "recibido"}


class StpWebhookResource:
    """POST /webhooks/stp/order-status: authenticate, store the raw event, queue it, answer fast.

    Refusals of unauthenticated calls are counted per minute, not each stored: the first of each
    minute leaves an event (with the previous minute's count), so a flood cannot fill the event log."""

    def __init__(self, uow: UowFactory, secret: str, refusals: MinuteCounter):
        self._uow = uow
        self._secret = secret.encode()
        self._refusals = refusals

    def _refuse(self, req: falcon.Request) -> None:
        with self._uow() as uow:
            now = uow.clock()
            if self._refusals.add(now) == 1:
                before = self._refusals.of(now - timedelta(minutes=1))
                log.warning("STP webhook refused from %s: missing or wrong X-Webhook-Secret", req.remote_addr)
                uow.log("webhook_refused", f"STP webhook from {req.remote_addr} refused: missing or wrong "
                        f"X-Webhook-Secret ({before} refused in the minute before; counted, not each stored)",
                        level="WARNING", details={"remote_addr": req.remote_addr, "previous_minute": before})
                uow.commit()

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = (req.get_header("X-Webhook-Secret") or "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret):
            self._refuse(req)
            raise falcon.HTTPUnauthorized(title="Unauthorized", description="missing or wrong X-Webhook-Secret")
        raw = ctx.raw_json(req)
        try:
            body = STP_ORDER_STATUS.parse(raw)
        except falcon.HTTPError as e:  # the bank gets 400 for any body that is not its callback
            log.warning("STP webhook: malformed body from %s: %s", req.remote_addr, e.description)
            raise falcon.HTTPBadRequest(title="Malformed callback", description=e.description) from None
        try:
            with self._uow() as uow:
                bank_events.receive(uow, body)
                uow.commit()
        except IntegrityError as e:
            if not is_duplicate(e, "body_hash"):  # the same callback twice at once: the first stored it
                raise
        resp.media = RECEIVED


def operation_day(text: str, now: datetime) -> str:
    """YYYY-MM-DD (a real day, 2000 to 2099, not after today in Mexico City) as STP's YYYYMMDD; anything
    else is a 422."""
    OPERATION_DATE.value(text)
    try:
        day = date.fromisoformat(text).strftime("%Y%m%d")
    except ValueError:
        raise invalid(f"{text} is not a day of the calendar") from None
    if not reconcilable(day, now):
        raise invalid(f"{text} is in the future: a day is reconciled from its own operation date on "
                      f"(today is {operation_date(now)} in Mexico City)")
    return day


class ReconciliationResource:
    """GET /reconciliations/{date}: the latest run and its mismatches; POST runs one now."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response, date: str) -> None:
        with self._uow() as uow:
            day = operation_day(date, uow.clock())
            run = queries.latest_reconciliation(uow, day)
        if run is None:
            raise NotFound(f"no reconciliation has run for {date}")
        resp.media = run

    def on_post(self, req: falcon.Request, resp: falcon.Response, date: str) -> None:
        with self._uow() as uow:
            day = operation_day(date, uow.clock())
            stamp = uow.clock().strftime("%Y%m%dT%H%M%S%f")
            scheduling.enqueue_reconciliation(uow, day, occasion=f"requested-{stamp}")
            ctx.record(uow, req, "reconciliation", day)
            uow.commit()
        resp.status = falcon.HTTP_202
        resp.media = {"operation_date": day, "status": "requested"}
