"""A batch's progress: rows settled are counted on the batch (in SQL, so that concurrent steps add up),
each progress mark (20, 40, 60, 80, 100 %) is acknowledged to the tenant once, and the last row settled
queues the merge, which completes the batch."""
from __future__ import annotations

from usecases.ports import UnitOfWork
from domain.batches import Batch, BatchStatus
from domain.identity import id_of
from usecases import steps


def settled(uow: UnitOfWork, batch_id: str, count: int) -> Batch:
    """``count`` more rows of the batch are settled: count them, acknowledge the marks reached, and queue
    the merge when none is left. Locks the batch's row (after the rows' own locks)."""
    batch = uow.batches.get(batch_id, lock=True)
    uow.batches.count_settled(batch, count)
    batch.updated_at = uow.clock()
    acknowledge(uow, batch)
    if batch.status == BatchStatus.PROCESSING and batch.settled >= batch.rows:
        uow.outbox.send(steps.MERGE_BATCH, batch.batch_id)
    uow.batches.save(batch)
    return batch


def acknowledge(uow: UnitOfWork, batch: Batch) -> None:
    """Queue an acknowledgement for each progress mark the batch has reached, when its tenant wants them."""
    marks = batch.acknowledgements_due()
    if not marks or not batch.callback_url or not uow.tenants.of_id(batch.tenant_id).bulk.acknowledgement_enable:
        return
    for mark in marks:
        uow.outbox.send(steps.ACKNOWLEDGE_BATCH, batch.batch_id, mark)


def merge(uow: UnitOfWork, batch_id: str) -> BatchStatus:
    """Complete a processing batch whose every row is settled (checked against the rows themselves)."""
    batch = uow.batches.get(batch_id, lock=True)
    if batch.status != BatchStatus.PROCESSING:
        return batch.status
    ongoing = uow.instructions.ongoing(id_of(batch))
    if ongoing:
        uow.log("batch_merge_early", f"batch {batch_id}: {ongoing} row(s) still on their way; the merge waits for "
                "them", level="WARNING", reference=batch_id)
        return batch.status
    batch.move_to(BatchStatus.COMPLETED, uow.clock())
    if batch.settled != batch.rows:  # the counter is only a trigger; the rows are the truth
        batch.settled = batch.rows
    uow.batches.save(batch)
    uow.log("batch_completed", f"batch {batch_id} completed: {batch.rows} rows", reference=batch_id)
    return batch.status
