"""GET /api/v1/payments/{uetr}: a payment's tracking, for whoever may see it."""
from __future__ import annotations

import re
import uuid
from typing import Callable

import falcon

from adapters.db.uow import UnitOfWork
from adapters.receipts import receipt_pdf
from usecases import tracking
from web import context as ctx

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def uetr_of(text: str) -> str:
    """The UETR in its canonical lower-case form; 404 for anything that is not one."""
    if not UUID.match(text):
        raise falcon.HTTPNotFound(title="Not found", description=f"no payment {text[:40]!r}: a UETR is a UUID")
    return str(uuid.UUID(text))


class PaymentResource:
    """A payment by its UETR, from the tracking read model."""

    def __init__(self, uow: Callable[[], UnitOfWork]):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response, uetr: str) -> None:
        with self._uow() as uow:
            resp.media = tracking.payment(uow, uetr_of(uetr), ctx.principal(req))

    def on_get_receipt(self, req: falcon.Request, resp: falcon.Response, uetr: str) -> None:
        with self._uow() as uow:
            payment = tracking.payment(uow, uetr_of(uetr), ctx.principal(req))
            payer = tracking.payer_of(uow, payment)
            issued = uow.clock()
        resp.content_type = "application/pdf"
        resp.downloadable_as = f"receipt-{payment['uetr']}.pdf"
        resp.data = receipt_pdf(payment, payer, issued.strftime("%Y-%m-%d %H:%M UTC"))
