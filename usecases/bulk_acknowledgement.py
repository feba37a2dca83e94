"""Acknowledgements: the tenant's X-CallbackURL is told of its batch's progress at 20, 40, 60, 80 and
100 %, the body signed with HMAC-SHA256 under the tenant's secret, so that it can tell our calls from
anyone else's."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from adapters.db.uow import UnitOfWork
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
    """The call for a progress mark, or None when the tenant wants none (or gave no X-CallbackURL)."""
    batch = uow.batches.get(batch_id)
    tenant = uow.tenants.of_id(batch.tenant_id)
    if not batch.callback_url or not tenant.bulk.acknowledgement_enable:
        return None
    s = bulk_reading.summary(uow, batch)
    body = {"batch_id": batch.batch_id, "request_id": batch.request_id, "progress": mark, "status": s["status"],
            "total": s["total"], "successful": s["successful"], "failed": s["failed"], "ongoing": s["ongoing"],
            "totalAmount": s["totalAmount"], "successfulAmount": s["successfulAmount"],
            "failedAmount": s["failedAmount"], "pendingAmount": s["pendingAmount"], "currency": s["currency"],
            "file": s["file"]}
    raw = json.dumps(body, separators=(",", ":"), default=str).encode()
    return Acknowledgement(batch.callback_url, raw, sign(tenant.secret, raw))
