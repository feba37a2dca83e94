"""A split batch planned: the success-threshold check (before any money moves), treasury's approval when
the tenant asks for it, then its sub-batches (each one payment mode, cut by size, in the ordering
field's order) and the first of them queued. A dated batch of a tenant with dates.client-confirmation.enable
first waits for its client to confirm it (or cancel it). A few sub-batches of a batch run at once (as many
as the process's setting said when the batch was planned: the batch keeps the number); each one that has
handed all its rows over queues the next, so that one large batch never fills the queue ahead of other
tenants' batches."""
from __future__ import annotations

from usecases.ports import UnitOfWork
from domain.access import Role
from domain.batches import Batch, BatchStatus, InstructionStatus, meets_threshold, sub_batch_sizes
from domain.bulk_config import BulkConfig
from domain.identity import id_of
from domain.sub_batches import SubBatch
from domain.tracking import PaymentEventKind
from usecases import bulk_progress, steps, tracking
from usecases.access import Principal
from usecases.errors import Conflict, Forbidden, NotFound

def plan(uow: UnitOfWork, batch_id: str, parallel: int) -> BatchStatus:
    """Plan a batch whose file is split, ``parallel`` of its sub-batches to run at once (kept on the batch,
    for every later step: the approval, each sub-batch done, the sweep); returns where it stands. A batch
    planned already is left alone."""
    batch = uow.batches.get(batch_id, lock=True)
    if batch.status != BatchStatus.QUEUED or batch.split_offset < batch.size_bytes:
        return batch.status
    batch.parallel_sub_batches = max(1, parallel)
    config = uow.tenants.of_id(batch.tenant_id).bulk
    payable = uow.instructions.count(id_of(batch), InstructionStatus.PENDING)
    rate = config.success_threshold_check_success_rate
    if batch.rows == 0:
        _stop(uow, batch, "the file has no rows")
    elif config.success_threshold_check_enable and not meets_threshold(payable, batch.rows, rate):
        _stop(uow, batch, f"only {payable} of {batch.rows} rows passed validation; the tenant's success threshold "
                          f"is {rate}%: nothing was paid", code="THRESHOLD_NOT_MET")
    elif payable == 0:
        _stop(uow, batch, f"none of the {batch.rows} rows can be paid: see each row's error")
    elif config.dates_client_confirmation_enable and batch.date_type is not None:
        batch.move_to(BatchStatus.AWAITING_CONFIRMATION, uow.clock())
        uow.log("batch_awaiting_confirmation", f"batch {batch_id}: {payable} of {batch.rows} rows, with their "
                "execution and delivery dates, wait for the client's confirmation", reference=batch_id)
    else:
        _release(uow, batch, config, payable)
    uow.batches.save(batch)
    return batch.status


def _release(uow: UnitOfWork, batch: Batch, config: BulkConfig, payable: int) -> None:
    """Treasury's approval when the tenant asks for it, else the sub-batches at once."""
    if config.approval_enable:
        batch.move_to(BatchStatus.AWAITING_APPROVAL, uow.clock())
        uow.log("batch_awaiting_approval", f"batch {batch.batch_id}: {payable} of {batch.rows} rows wait for "
                "treasury's approval", reference=batch.batch_id)
    else:
        dispatch(uow, batch, config)


def _stop(uow: UnitOfWork, batch: Batch, reason: str, code: str = "BATCH_FAILED") -> None:
    at = uow.clock()
    failed = uow.instructions.fail_pending(id_of(batch), code, reason, at)
    batch.move_to(BatchStatus.FAILED, at, reason)
    uow.batches.count_settled(batch, len(failed))
    tracking.record(uow, [tracking.event(uow, uetr, PaymentEventKind.FAILED, reason=reason) for uetr in failed])
    uow.log("batch_failed", f"batch {batch.batch_id} failed: {reason}", level="WARNING", reference=batch.batch_id)
    bulk_progress.acknowledge(uow, batch)


def dispatch(uow: UnitOfWork, batch: Batch, config: BulkConfig) -> None:
    """Number the payable rows into sub-batches, by payment mode and then by size, and queue the first
    ones: as many as the batch runs at once."""
    at, number = uow.clock(), 0
    # dated rows go in the order they are due, so that a sub-batch held for a later day holds no earlier row
    order_by = "execution_date" if batch.date_type is not None else (config.ordering_field if config.ordering_enable else None)
    for mode, connector, count, _ in uow.instructions.pending_modes(id_of(batch)):
        size = config.splitting_sub_batch_size if config.splitting_enable else count
        uow.instructions.assign_sub_batch(id_of(batch), mode, number, size, order_by)
        for rows in sub_batch_sizes(count, size):
            uow.sub_batches.add(SubBatch(id_of(batch), number, mode, connector, rows, at))
            number += 1
    batch.sub_batch_count = number
    batch.move_to(BatchStatus.PROCESSING, at)
    for first in range(min(batch.parallel_sub_batches, number)):
        uow.outbox.send(steps.EXECUTE_SUB_BATCH, batch.batch_id, first)
    uow.log("batch_processing", f"batch {batch.batch_id}: {number} sub-batch(es) planned", reference=batch.batch_id)


def _waiting(uow: UnitOfWork, batch_id: str, who: Principal) -> Batch:
    batch = uow.batches.get(batch_id, lock=True)
    if batch.status != BatchStatus.AWAITING_APPROVAL:
        raise Conflict(f"batch {batch_id} is {batch.status.value}, not awaiting approval")
    submitter = uow.api_keys.person_of(batch.submitted_by_key_id) if batch.submitted_by_key_id else None
    if batch.submitted_by_key_id == who.key_id or (submitter and who.person and submitter.id == who.person.id):
        raise Forbidden(f"dual control: batch {batch_id} was submitted by "
                        f"{submitter.email if submitter else 'this key'}; a treasury or admin person other than the "
                        "submitter must approve or reject it (maker-checker)")
    return batch


def approve(uow: UnitOfWork, batch_id: str, who: Principal) -> Batch:
    """Treasury's approval of a waiting batch, by another key than the one that submitted it."""
    batch = _waiting(uow, batch_id, who)
    batch.approved_by_key_id = who.key_id
    dispatch(uow, batch, uow.tenants.of_id(batch.tenant_id).bulk)
    uow.batches.save(batch)
    return batch


def reject(uow: UnitOfWork, batch_id: str, who: Principal, reason: str) -> Batch:
    """Treasury's rejection of a waiting batch: nothing is paid, every waiting row fails with the reason."""
    batch = _waiting(uow, batch_id, who)
    batch.approved_by_key_id = who.key_id
    _stop(uow, batch, f"rejected by treasury: {reason}", code="REJECTED")
    uow.batches.save(batch)
    return batch


def _awaiting_client(uow: UnitOfWork, batch_id: str, who: Principal) -> Batch:
    """The batch, waiting for its client: only the tenant's own key may answer for it (another tenant's
    key is told there is no such batch)."""
    batch = uow.batches.get(batch_id, lock=True)
    if who.role != Role.TENANT:
        raise Forbidden(f"only its tenant's own key confirms or cancels batch {batch_id}; this key's role is "
                        f"{who.role.value}")
    if who.tenant_id != batch.tenant_id:
        raise NotFound(f"batch {batch_id} does not exist")
    if batch.status != BatchStatus.AWAITING_CONFIRMATION:
        raise Conflict(f"batch {batch_id} is {batch.status.value}, not awaiting confirmation")
    return batch


def confirm(uow: UnitOfWork, batch_id: str, who: Principal) -> Batch:
    """The client confirms its dated batch: it goes on to treasury's approval (when asked for) or is paid."""
    batch = _awaiting_client(uow, batch_id, who)
    config = uow.tenants.of_id(batch.tenant_id).bulk
    _release(uow, batch, config, uow.instructions.count(batch.id or 0, InstructionStatus.PENDING))
    uow.batches.save(batch)
    uow.log("batch_confirmed", f"batch {batch_id} confirmed by the client", reference=batch_id)
    return batch


def cancel(uow: UnitOfWork, batch_id: str, who: Principal) -> Batch:
    """The client cancels its dated batch: nothing is paid, every waiting row fails CANCELLED."""
    batch = _awaiting_client(uow, batch_id, who)
    _stop(uow, batch, "cancelled by the client before it confirmed the dates", code="CANCELLED")
    uow.batches.save(batch)
    return batch
