"""Acknowledgements: the tenant's X-CallbackURL is told of its batch's progress at 20, 40, 60, 80 and
100 %, the body signed with HMAC-SHA256 under the tenant's secret, so that it can tell our calls from
anyone else's. When one cannot be delivered (refused, or failing on its last attempt) the batch's
acknowledgements are given up: one ALERT for the batch, and no later mark is sent."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from usecases.ports import UnitOfWork
from usecases import bulk_reading

SIGNATURE_HEADER = "X-Signature-SHA256"


@dataclass(frozen=True)
class Acknowledgement:
    """One call to make: where, the exact body, and its signature (hex)."""

    url: str
    body: bytes
    signature: str


def sign(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of the body under the tenant's secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def acknowledgement(uow: UnitOfWork, batch_id: str, mark: int) -> Acknowledgement | None:
    """The call for a progress mark, or None when the tenant wants none (or gave no X-CallbackURL), or the
    batch's acknowledgements were given up."""
    batch = uow.batches.get(batch_id)
    tenant = uow.tenants.of_id(batch.tenant_id)
    if not batch.callback_url or not tenant.bulk.acknowledgement_enable or batch.acknowledgements_given_up_at:
        return None
    s = bulk_reading.summary(uow, batch)
    body = {"batch_id": batch.batch_id, "request_id": batch.request_id, "progress": mark, "status": s["status"],
            "total": s["total"], "successful": s["successful"], "failed": s["failed"], "ongoing": s["ongoing"],
            "totalAmount": s["totalAmount"], "successfulAmount": s["successfulAmount"],
            "failedAmount": s["failedAmount"], "pendingAmount": s["pendingAmount"], "currency": s["currency"],
            "file": s["file"]}
    raw = json.dumps(body, separators=(",", ":"), default=str).encode()
    return Acknowledgement(batch.callback_url, raw, sign(tenant.secret, raw))


def give_up(uow: UnitOfWork, batch_id: str, mark: int, why: str) -> bool:
    """The acknowledgement of ``mark`` could not be delivered: the batch's acknowledgements stop, with one
    ALERT for the batch (the first mark to fail says why). Returns whether this call gave them up."""
    batch = uow.batches.get(batch_id, lock=True)
    if batch.acknowledgements_given_up_at is not None:
        return False
    batch.acknowledgements_given_up_at = uow.clock()
    uow.batches.save(batch)
    uow.alert("acknowledgements_given_up", f"batch {batch_id}: its acknowledgement of {mark} % could not be "
              f"delivered ({why[:300]}); no more are sent to its X-CallbackURL", reference=batch_id,
              details={"batch_id": batch_id, "mark": mark})
    return True
