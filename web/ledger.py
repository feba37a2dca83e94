"""A store's balance ledger, and the bank transfers that pay it out."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from domain.dual_control import AdjustmentRequest, AdjustmentStatus
from domain.ledger import TransferStatus
from usecases import ledger, queries
from usecases.payouts import PayoutConfig
from web import context as ctx
from web.rendering import report_csv
from web.routes import (ADJUSTMENT_STATUS, IDEMPOTENCY_KEY, REPORT_FORMAT, STORE_FILTER, TRANSFER_STATUS,
                        TRANSFER_STORE)

UowFactory = Callable[[], UnitOfWork]
CSV = "text/csv"


class StoreLedgerResource:
    """/stores/{store_id}/balance, /balance-updates, /adjustments and /transfers."""

    def __init__(self, uow: UowFactory, max_adjustment: int, approval_above: int | None = None):
        self._uow = uow
        self._max_adjustment = max_adjustment
        self._approval_above = approval_above

    def on_get_balance(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.balance(uow, store_id, ctx.scope(req))

    def on_get_updates(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = queries.balance_updates(uow, store_id, ctx.scope(req), page, per_page).as_dict()

    def on_post_adjustments(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        fields = ctx.body(req)
        key = IDEMPOTENCY_KEY.read(req)
        who = ctx.principal(req)
        with self._uow() as uow:
            made = ledger.adjust(uow, store_id, fields["amount"], who.key_id, fields.get("note"), key,
                                 max_amount=self._max_adjustment, by=who.person, approval_above=self._approval_above)
            held = isinstance(made, AdjustmentRequest)
            ctx.record(uow, req, "store", store_id, {**fields, "idempotency_key": key,
                                                     "adjustment_request_id" if held else "balance_update_id": made.id})
            uow.commit()
            resp.media = (queries.adjustment_request_view(uow, made) if isinstance(made, AdjustmentRequest)
                          else queries.balance_update_view(made))
        resp.status = falcon.HTTP_202 if held else falcon.HTTP_201

    def on_post_transfers(self, req: falcon.Request, resp: falcon.Response, store_id: int) -> None:
        with self._uow() as uow:
            key = ledger.request_transfer(uow, store_id, ctx.principal(req).person)
            ctx.record(uow, req, "store", store_id, {"trigger_key": key})
            uow.commit()
        resp.status = falcon.HTTP_202
        resp.media = {"store_id": store_id, "trigger_key": key, "status": "requested"}


class TransferResource:
    """/transfers, /transfers/{transfer_id}, its approval, rejection and report. Approval builds the
    transfer's payment order, so it needs the payout settings (our ordering account, the tracking prefix)."""

    def __init__(self, uow: UowFactory, payout: PayoutConfig):
        self._uow = uow
        self._payout = payout

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = TRANSFER_STATUS.read(req)
        store_id = TRANSFER_STORE.read(req)
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = queries.transfers(uow, ctx.scope(req), page, per_page,
                                           TransferStatus(status) if status else None, store_id).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, transfer_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.transfer(uow, transfer_id, ctx.scope(req))

    def on_post_approval(self, req: falcon.Request, resp: falcon.Response, transfer_id: int) -> None:
        with self._uow() as uow:
            ledger.approve_transfer(uow, transfer_id, self._payout, ctx.principal(req).person)
            ctx.record(uow, req, "transfer", transfer_id)
            uow.commit()
            resp.media = queries.transfer(uow, transfer_id, None)

    def on_post_rejection(self, req: falcon.Request, resp: falcon.Response, transfer_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            ledger.reject_transfer(uow, transfer_id, reason)
            ctx.record(uow, req, "transfer", transfer_id, {"reason": reason})
            uow.commit()
            resp.media = queries.transfer(uow, transfer_id, None)

    def on_get_report(self, req: falcon.Request, resp: falcon.Response, transfer_id: int) -> None:
        wanted = REPORT_FORMAT.read(req)
        as_csv = wanted == "csv" or (wanted is None and req.client_prefers([falcon.MEDIA_JSON, CSV]) == CSV)
        with self._uow() as uow:
            report = queries.transfer_report(uow, transfer_id, ctx.scope(req))
        if as_csv:
            resp.content_type = f"{CSV}; charset=utf-8"
            resp.downloadable_as = f"transfer-{transfer_id}.csv"
            resp.text = report_csv(report)
        else:
            resp.media = report.as_dict()


class AdjustmentRequestResource:
    """/api/v1/adjustment-requests: adjustments held for a second person, their approval and rejection."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = ADJUSTMENT_STATUS.read(req)
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = queries.adjustment_requests(uow, AdjustmentStatus(status) if status else None,
                                                     STORE_FILTER.read(req), page, per_page).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.adjustment_request_view(uow, uow.adjustment_requests.get(request_id))

    def on_post_approval(self, req: falcon.Request, resp: falcon.Response, request_id: int) -> None:
        with self._uow() as uow:
            request = ledger.approve_adjustment(uow, request_id, ctx.person(req))
            ctx.record(uow, req, "adjustment_request", request_id, {"balance_update_id": request.balance_update_id})
            uow.commit()
            resp.media = queries.adjustment_request_view(uow, request)

    def on_post_rejection(self, req: falcon.Request, resp: falcon.Response, request_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            request = ledger.reject_adjustment(uow, request_id, ctx.person(req), reason)
            ctx.record(uow, req, "adjustment_request", request_id, {"reason": reason})
            uow.commit()
            resp.media = queries.adjustment_request_view(uow, request)
