"""The date lookup: each row of a dated batch gets its execution and delivery dates by its rail's
calendar, a page per transaction, before the batch is planned. A row whose date cannot be met (past,
today after the cut-off, outside the calendars, no calendar for its currency) fails with the reason;
the others are held until their execution date."""
from __future__ import annotations

from usecases.ports import UnitOfWork
from domain.batches import BatchStatus, InstructionStatus
from domain.calendars import DateError, dates_of
from domain.identity import id_of
from domain.tracking import PaymentEventKind
from usecases import steps, tracking

PAGE_ROWS = 1000


def lookup_page(uow: UnitOfWork, batch_id: str, after_row: int, page_rows: int = PAGE_ROWS) -> int:
    """Dates for the rows after ``after_row``; returns how many rows it dated. A page done already (a
    redelivery) or a batch that has moved on does nothing."""
    batch = uow.batches.get(batch_id, lock=True)
    if batch.status != BatchStatus.QUEUED or after_row != batch.dated_rows - 1:
        return 0
    rows = uow.instructions.page(id_of(batch), after_row, page_rows)
    now, failed, events = uow.clock(), 0, []
    for row in rows:
        if row.status != InstructionStatus.PENDING:
            continue
        try:
            found = dates_of(row.rail, row.currency, batch.date_type, row.requested_date, now)
        except DateError as e:
            row.settle(False, now, "DATE_NOT_MET", str(e))
            events.append(tracking.event(uow, row.uetr, PaymentEventKind.FAILED, reason=str(e)))
            failed += 1
            continue
        if found is not None:
            row.execution_date, row.delivery_date = found
            events.append(tracking.event(uow, row.uetr, PaymentEventKind.DATES_COMPUTED, rail=row.rail,
                                         execution_date=found[0].isoformat(), delivery_date=found[1].isoformat()))
    uow.instructions.save_many(rows, now)
    tracking.record(uow, events)
    batch.dated_rows = rows[-1].row + 1 if rows else batch.rows
    batch.updated_at = now
    uow.batches.save(batch)
    uow.batches.count_settled(batch, failed)
    if len(rows) < page_rows:
        uow.outbox.send(steps.PLAN_BATCH, batch_id)
    else:
        uow.outbox.send(steps.LOOKUP_DATES, batch_id, rows[-1].row)
    return len(rows)
