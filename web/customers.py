"""The lender's customers: register, list, read, edit, score, move by hand, and delete (erase)."""
from __future__ import annotations

from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from domain.access import Action, may
from domain.customers import PII_FIELDS
from usecases import customers
from usecases.customers import CustomerRules
from web import context as ctx
from web.routes import CUSTOMER_EXTERNAL_ID, CUSTOMER_STATUS

UowFactory = Callable[[], UnitOfWork]


def _personal(req: falcon.Request) -> bool:
    """Whether the caller's role sees customers' personal data whole."""
    return may(ctx.principal(req).role, Action.READ_CUSTOMER_PII)


class CustomerResource:
    """/api/v1/customers and a customer's score, status moves and deletion. The audit rows name personal
    fields, never their values."""

    def __init__(self, uow: UowFactory, rules: CustomerRules):
        self._uow, self._rules = uow, rules

    def on_post_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            customer = customers.create_customer(uow, fields, self._rules)
            ctx.record(uow, req, "customer", customer.id, {
                "external_id": customer.external_id, "status": customer.status.value,
                "fields": sorted(name for name in PII_FIELDS if fields.get(name))})
            uow.commit()
            resp.media = customers.customer_view(customer, _personal(req))
        resp.status = falcon.HTTP_201

    def on_get_collection(self, req: falcon.Request, resp: falcon.Response) -> None:
        page, per_page = ctx.paging(req)
        with self._uow() as uow:
            resp.media = customers.customers_page(uow, CUSTOMER_EXTERNAL_ID.read(req), CUSTOMER_STATUS.read(req),
                                                  page, per_page, _personal(req))

    def on_get(self, req: falcon.Request, resp: falcon.Response, customer_id: int) -> None:
        with self._uow() as uow:
            resp.media = customers.customer_view(uow.customers.get(customer_id), _personal(req))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, customer_id: int) -> None:
        changes = ctx.body(req)
        with self._uow() as uow:
            customer, changed = customers.update_customer(uow, customer_id, changes, self._rules)
            ctx.record(uow, req, "customer", customer_id, {"changed": changed, "status": customer.status.value})
            uow.commit()
            resp.media = customers.customer_view(customer, _personal(req))

    def on_post_score(self, req: falcon.Request, resp: falcon.Response, customer_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            customer = customers.score_customer(uow, customer_id, fields["risk_profile"], fields.get("score"),
                                                self._rules)
            ctx.record(uow, req, "customer", customer_id, {**fields, "status": customer.status.value})
            uow.commit()
            resp.media = customers.customer_view(customer, _personal(req))

    def on_post_status(self, req: falcon.Request, resp: falcon.Response, customer_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            customer, move = customers.move_customer(uow, customer_id, fields["event"], fields["reason"])
            ctx.record(uow, req, "customer", customer_id, customers.move_details(move))
            uow.commit()
            resp.media = customers.customer_view(customer, _personal(req))

    def on_post_preview(self, req: falcon.Request, resp: falcon.Response, customer_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            outcome = customers.preview_move(uow, customer_id, fields["event"])
        resp.media = {"customer_id": customer_id, "event": outcome.event.value, "current": outcome.current.value,
                      "allowed": outcome.allowed, "target": outcome.target.value if outcome.target else None,
                      "why": outcome.why or None}

    def on_post_deletion(self, req: falcon.Request, resp: falcon.Response, customer_id: int) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            deletion = customers.delete_customer(uow, customer_id, fields["reason"], bool(fields.get("force")),
                                                 self._rules)
            ctx.record(uow, req, "customer", customer_id, deletion.audit_details())
            uow.commit()
            resp.media = customers.customer_view(deletion.customer, _personal(req))
