"""Credits: originate, read, deliver, cancel."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from usecases import credits, queries
from domain.credits import CreditStatus
from usecases.customers import CustomerRules
from usecases.loan_status import MoveBy
from web import context as ctx
from web.routes import CREDIT_STATUS, STORE_FILTER


def moved_by(req: falcon.Request) -> MoveBy:
    """Who moves a loan when its credit is delivered or cancelled: the key's role and id."""
    who = ctx.principal(req)
    return MoveBy(actor=f"{who.role.value} key {who.key_id}")


class CreditResource:
    """/credits, /credits/{credit_id}, its delivery and its cancellation."""

    def __init__(self, uow: Callable[[], UnitOfWork], rules: CustomerRules = CustomerRules()):
        self._uow, self._rules = uow, rules

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            credit = credits.originate(uow, **fields)
            ctx.record(uow, req, "credit", credit.id, fields)
            uow.commit()
            resp.media = queries.credit_view(credit)
        resp.status = falcon.HTTP_201

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        status = CREDIT_STATUS.read(req)
        with self._uow() as uow:
            resp.media = queries.credits(uow, ctx.scope(req), page, per_page, STORE_FILTER.read(req),
                                         CreditStatus(status) if status else None).as_dict()

    def on_get(self, req: falcon.Request, resp: falcon.Response, credit_id: int) -> None:
        with self._uow() as uow:
            resp.media = queries.credit(uow, credit_id, ctx.scope(req))

    def on_post_delivery(self, req: falcon.Request, resp: falcon.Response, credit_id: int) -> None:
        with self._uow() as uow:
            credit = credits.deliver(uow, credit_id, ctx.scope(req), self._rules, moved_by(req))
            ctx.record(uow, req, "credit", credit_id)
            uow.commit()
            resp.media = queries.credit_view(credit)

    def on_post_cancellation(self, req: falcon.Request, resp: falcon.Response, credit_id: int) -> None:
        reason = ctx.body(req)["reason"]
        with self._uow() as uow:
            credit = credits.cancel(uow, credit_id, reason, ctx.scope(req), self._rules, moved_by(req))
            ctx.record(uow, req, "credit", credit_id, {"reason": reason})
            uow.commit()
            resp.media = queries.credit_view(credit)
