"""A batch submitted: stored once per tenant and X-CorrelationID. The same content under the same id is
the same batch (nothing new is made); other content under an id already used is refused. The file's
rows are split into instructions by the ``split_batch`` step, a page at a time."""
from __future__ import annotations

from dataclasses import dataclass

from usecases.ports import UnitOfWork
from domain.batches import Batch
from domain.identity import id_of
from domain.tenants import Tenant
from usecases import steps
from usecases.errors import Conflict, Invalid

REQUEST_ID_LENGTH = 64


@dataclass(frozen=True)
class Submission:
    """What the client sent, as kept: where the file is, its size and digest, and the headers that matter."""

    request_id: str
    stored_at: str
    size_bytes: int
    content_sha256: str
    source: str  # csv or raw
    filename: str = ""
    purpose: str = ""
    callback_url: str | None = None
    date_type: str | None = None  # delivery or execution: what the file's date column means


DATE_TYPES = ("delivery", "execution")


def date_type_of(tenant: Tenant, given: str | None) -> str | None:
    """What the file's dates are (X-Date-Type or the date_type form field): delivery or execution, execution
    when not said. Raises Invalid for another word, or for a tenant outside the dates trial."""
    if given is None or not given.strip():
        return "execution" if tenant.bulk.dates_enable else None
    word = given.strip().lower()
    if word not in DATE_TYPES:
        raise Invalid(f"X-Date-Type is delivery or execution, not {given!r}")
    if not tenant.bulk.dates_enable:
        raise Invalid(f"tenant {tenant.name} does not use payment dates (dates.enable is off): leave X-Date-Type "
                      "out, or ask for the dates trial")
    return word


def submit(uow: UnitOfWork, tenant: Tenant, submission: Submission, key_id: int | None) -> tuple[Batch, bool]:
    """The tenant's batch under ``submission.request_id``: (the batch, whether it is new). Raises Conflict
    when the tenant used that X-CorrelationID for other content."""
    at = uow.clock()
    batch = Batch(uow.new_id(), id_of(tenant), submission.request_id, submission.content_sha256, submission.source,
                  submission.stored_at, at, submission.filename[:255], submission.purpose[:64],
                  submission.callback_url, submitted_by_key_id=key_id, updated_at=at,
                  size_bytes=submission.size_bytes, date_type=submission.date_type)
    stored, new = uow.batches.add(batch)
    if not new:
        if stored.content_sha256 != submission.content_sha256:
            raise Conflict(f"X-CorrelationID {submission.request_id!r} was used for batch {stored.batch_id} with other "
                           "content; send new content under a new X-CorrelationID")
        return stored, False
    uow.outbox.send(steps.SPLIT_BATCH, stored.batch_id, 0)
    uow.log("batch_received", f"batch {stored.batch_id} of tenant {tenant.name} received ({submission.size_bytes} "
            f"bytes, {submission.source}, X-CorrelationID {submission.request_id})", reference=stored.batch_id,
            details={"tenant": tenant.name, "sha256": submission.content_sha256, "filename": submission.filename})
    return stored, True
