"""Repayments: record (pending until applied by a worker), list, read, reject a pending one, reverse an
accepted one."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from usecases import repayments
from usecases.customers import CustomerRules
from web import context as ctx
from web.routes import REPAYMENT_LOAN, REPAYMENT_STATUS

UowFactory = Callable[[], UnitOfWork]


class RepaymentResource:
    """/api/v1/repayments, a repayment, its reversal and its rejection."""

    def __init__(self, uow: UowFactory, rules: CustomerRules):
        self._uow, self._rules = uow, rules

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            repayment, new = repayments.record(uow, fields)
            ctx.record(uow, req, "repayment", repayment.id, {**fields, "new": new})
            uow.commit()
            resp.media = repayments.repayment_view(repayment)
        resp.status = falcon.HTTP_201 if new else falcon.HTTP_200

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = repayments.repayments_page(uow, REPAYMENT_LOAN.read(req), REPAYMENT_STATUS.read(req), page,
                                                    per_page)

    def on_get(self, req: falcon.Request, resp: falcon.Response, repayment_id: int) -> None:
        with self._uow() as uow:
            resp.media = repayments.repayment_view(uow.repayments.get(repayment_id), detail=True)

    def on_post_reversal(self, req: falcon.Request, resp: falcon.Response, repayment_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            repayment = repayments.reverse(uow, repayment_id, reason, self._rules)
            ctx.record(uow, req, "repayment", repayment_id, {"reason": reason, "loan_id": repayment.loan_id})
            uow.commit()
            resp.media = repayments.repayment_view(repayment, detail=True)

    def on_post_rejection(self, req: falcon.Request, resp: falcon.Response, repayment_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            repayment = repayments.reject(uow, repayment_id, reason)
            ctx.record(uow, req, "repayment", repayment_id, {"reason": reason, "loan_id": repayment.loan_id})
            uow.commit()
            resp.media = repayments.repayment_view(repayment, detail=True)
