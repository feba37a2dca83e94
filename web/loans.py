"""Loan requests and loans: request, complete (sign) or reject; read a loan as of a day, its schedule and
history; move it (freeze, dispute, cancel) or ask what a move would do."""
from __future__ import annotations

from datetime import date
from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from usecases import loan_requests, loans
from usecases.customers import CustomerRules
from usecases.errors import UseCaseError
from usecases.loan_requests import Decided
from web import context as ctx
from web.credits import moved_by
from web.rendering import jsonable
from web.routes import (AS_OF, LOAN_BUCKET, LOAN_CUSTOMER, LOAN_REQUEST_CUSTOMER, LOAN_REQUEST_STATUS,
                        LOAN_STATUS)

UowFactory = Callable[[], UnitOfWork]


def _as_of(req: falcon.Request) -> date | None:
    raw = AS_OF.read(req)
    return date.fromisoformat(raw) if raw else None




def _answer(decided: Decided, resp: falcon.Response) -> None:
    """The request as decided, after commit: a refusal made now leaves as its 409 (or 422), the request in it."""
    view = loan_requests.loan_request_view(decided.request)
    if decided.refusal is not None:
        refusal: UseCaseError = decided.refusal
        refusal.extra = {**(getattr(refusal, "extra", None) or {}), "loan_request": jsonable(view)}  # type: ignore[attr-defined]
        raise refusal
    resp.media = view


class LoanRequestResource:
    """/api/v1/loan-requests, one request, its completion and its rejection."""

    def __init__(self, uow: UowFactory, rules: CustomerRules):
        self._uow, self._rules = uow, rules

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            decided = loan_requests.request_loan(uow, fields["customer_id"], fields["store_id"], fields["external_id"],
                                                 fields["amount"], fields["number_of_payments"])
            if decided.created:
                ctx.record(uow, req, "loan_request", decided.request.id,
                           {**fields, "status": decided.request.status.value, "rejection": decided.request.rejection})
            uow.commit()
        resp.status = falcon.HTTP_201 if decided.created else falcon.HTTP_200
        _answer(decided, resp)

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = loan_requests.loan_requests_page(uow, LOAN_REQUEST_CUSTOMER.read(req),
                                                          LOAN_REQUEST_STATUS.read(req), page, per_page)

    def on_get(self, req: falcon.Request, resp: falcon.Response, loan_request_id: int) -> None:
        with self._uow() as uow:
            resp.media = loan_requests.loan_request_view(uow.loan_requests.get(loan_request_id))

    def on_post_completion(self, req: falcon.Request, resp: falcon.Response, loan_request_id: int) -> None:
        with self._uow() as uow:
            decided = loan_requests.complete(uow, loan_request_id, self._rules)
            ctx.record(uow, req, "loan_request", loan_request_id, {
                "status": decided.request.status.value, "loan_id": decided.request.credit_id,
                "rejection": decided.request.rejection})
            uow.commit()
        _answer(decided, resp)

    def on_post_rejection(self, req: falcon.Request, resp: falcon.Response, loan_request_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            request = loan_requests.reject(uow, loan_request_id, reason)
            ctx.record(uow, req, "loan_request", loan_request_id, {"reason": reason})
            uow.commit()
            resp.media = loan_requests.loan_request_view(request)


class LoanResource:
    """/api/v1/loans, a loan as of a day, its schedule, history and moves."""

    def __init__(self, uow: UowFactory, rules: CustomerRules):
        self._uow, self._rules = uow, rules

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = loans.loans_page(uow, LOAN_CUSTOMER.read(req), LOAN_STATUS.read(req), LOAN_BUCKET.read(req),
                                          page, per_page)

    def on_get(self, req: falcon.Request, resp: falcon.Response, loan_id: int) -> None:
        as_of = _as_of(req)
        with self._uow() as uow:
            resp.media = loans.loan_view(uow, loan_id, as_of)

    def on_get_schedule(self, req: falcon.Request, resp: falcon.Response, loan_id: int) -> None:
        as_of = _as_of(req)
        with self._uow() as uow:
            resp.media = loans.schedule_view(uow, loan_id, as_of)

    def on_get_history(self, req: falcon.Request, resp: falcon.Response, loan_id: int) -> None:
        with self._uow() as uow:
            resp.media = loans.history_view(uow, loan_id)

    def on_post_moves(self, req: falcon.Request, resp: falcon.Response, loan_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            moved = loans.move_loan(uow, loan_id, fields["event"], fields.get("reason"), fields.get("detail"),
                                    self._rules, moved_by(req))
            ctx.record(uow, req, "loan", loan_id, loans.move_details(moved))
            uow.commit()
            resp.media = loans.loan_view(uow, loan_id)

    def on_post_preview(self, req: falcon.Request, resp: falcon.Response, loan_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            resp.media = loans.preview_move(uow, loan_id, fields["event"], fields.get("reason"))
