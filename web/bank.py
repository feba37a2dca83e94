"""The bank's side of the API: STP's order-status webhook and the day's reconciliation."""
from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Callable

import falcon
from sqlalchemy.exc import IntegrityError

from adapters.db.uow import UnitOfWork
from usecases import bank_events, reconciliation, scheduling
from usecases.errors import NotFound
from web import context as ctx

log = logging.getLogger("dispersa.web.bank")
UowFactory = Callable[[], UnitOfWork]
RECEIVED = {"mensaje": "recibido"}


class StpWebhookResource:
    """POST /webhooks/stp/order-status: authenticate, store the raw event, queue it, answer fast."""

    def __init__(self, uow: UowFactory, secret: str):
        self._uow = uow
        self._secret = secret.encode()

    def _refuse(self, req: falcon.Request, why: str) -> None:
        log.warning("STP webhook refused from %s: %s", req.remote_addr, why)
        with self._uow() as uow:
            uow.log("webhook_refused", f"STP webhook from {req.remote_addr} refused: {why}", level="WARNING")
            uow.commit()

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = (req.get_header("X-Webhook-Secret") or "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret):
            self._refuse(req, "missing or wrong X-Webhook-Secret")
            raise falcon.HTTPUnauthorized(title="Unauthorized", description="missing or wrong X-Webhook-Secret")
        raw = req.bounded_stream.read()
        try:
            body = json.loads(raw or b"")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "estado" not in body:
            self._refuse(req, f"malformed body {raw[:200]!r}")
            raise falcon.HTTPBadRequest(title="Malformed JSON",
                                        description="the body must be a JSON object with STP's fields, estado included")
        try:
            with self._uow() as uow:
                bank_events.receive(uow, body)
                uow.commit()
        except IntegrityError as e:
            if not bank_events.is_duplicate_insert(e):
                raise
        resp.media = RECEIVED


DAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


def operation_day(text: str) -> str:
    match = DAY.match(text)
    if not match:
        raise falcon.HTTPNotFound(title="Not found", description="a reconciliation date is YYYY-MM-DD")
    return "".join(match.groups())


class ReconciliationResource:
    """GET /reconciliations/{date}: the latest run and its mismatches; POST runs one now."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response, date: str) -> None:
        day = operation_day(date)
        with self._uow() as uow:
            run = reconciliation.latest_run(uow, day)
        if run is None:
            raise NotFound(f"no reconciliation has run for {date}")
        resp.media = run

    def on_post(self, req: falcon.Request, resp: falcon.Response, date: str) -> None:
        day = operation_day(date)
        with self._uow() as uow:
            stamp = uow.clock().strftime("%Y%m%dT%H%M%S%f")
            scheduling.enqueue_reconciliation(uow, day, dedupe=f"reconcile:{day}:{stamp}")
            ctx.record(uow, req, "reconciliation", day)
            uow.commit()
        resp.status = falcon.HTTP_202
        resp.media = {"operation_date": day, "status": "requested"}
