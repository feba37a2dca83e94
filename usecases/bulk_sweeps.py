"""The bulk sweeps: work a lost or dead message left standing is driven again, each step re-checking the
current state before it acts (they are idempotent on their business keys). A row handed to an
asynchronous connector whose word has not come is asked about; one still without an answer after the
deadline stays in progress (the money may have moved) with the reason shown, and an ALERT."""
from __future__ import annotations

from datetime import datetime, timedelta

from usecases.ports import UnitOfWork
from domain.batches import BatchStatus
from domain.connectors import REMOTE
from domain.identity import id_of
from usecases import steps

NO_ANSWER = "NO_ANSWER"
SWEEP_LIMIT = 500


def sweep_batches(uow: UnitOfWork, now: datetime, stuck_after: timedelta) -> dict[str, int]:
    """Batches standing still since ``stuck_after``: the split, the plan, the next sub-batches, the merge."""
    window = now.strftime("%Y%m%dT%H%M")
    found = {"batches_split": 0, "batches_planned": 0, "sub_batches": 0, "batches_merged": 0}
    for batch in uow.batches.standing(now - stuck_after, SWEEP_LIMIT):
        if batch.status == BatchStatus.QUEUED and batch.split_offset < batch.size_bytes:
            uow.outbox.send(steps.SPLIT_BATCH, batch.batch_id, batch.split_page, again=f"sweep-{window}")
            found["batches_split"] += 1
        elif batch.status == BatchStatus.QUEUED:
            uow.outbox.send(steps.PLAN_BATCH, batch.batch_id, again=f"sweep-{window}")
            found["batches_planned"] += 1
        elif batch.status == BatchStatus.PROCESSING and batch.settled >= batch.rows:
            uow.outbox.send(steps.MERGE_BATCH, batch.batch_id, again=f"sweep-{window}")
            found["batches_merged"] += 1
        elif batch.status == BatchStatus.PROCESSING:
            running = batch.parallel_sub_batches
            for number in uow.sub_batches.unfinished(id_of(batch), now - stuck_after, running):
                uow.outbox.send(steps.EXECUTE_SUB_BATCH, batch.batch_id, number, again=f"sweep-{window}")
                found["sub_batches"] += 1
    return found


def sweep_remote_rows(uow: UnitOfWork, now: datetime, callback_after: timedelta,
                      deadline: timedelta) -> dict[str, int]:
    """Rows of GSMA and Mojaloop with no final word since ``callback_after`` are asked about again; past
    ``deadline`` each is flagged once, with an ALERT."""
    window = now.strftime("%Y%m%dT%H%M")
    asked = flagged = 0
    for row in uow.instructions.in_progress_since(now - callback_after, REMOTE, SWEEP_LIMIT):
        if row.started_at is not None and now - row.started_at > deadline and row.error_code != NO_ANSWER:
            row.error_code = NO_ANSWER
            row.error_description = (f"no final word from {row.connector} since {row.started_at.isoformat()}; the "
                                     "payment may or may not have been made: ask the provider")
            uow.instructions.save_many([row], now)
            uow.alert("bulk_row_no_answer", f"row {row.instruction_id} (UETR {row.uetr}): {row.error_description}",
                      reference=row.uetr)
            flagged += 1
        uow.outbox.send(steps.SYNC_INSTRUCTION, row.uetr, again=f"sweep-{window}")
        asked += 1
    return {"bulk_rows_asked": asked, "bulk_rows_flagged": flagged}


def release_due(uow: UnitOfWork, now: datetime) -> int:
    """Sub-batches holding rows whose execution date has come are executed again (each hour, until they
    are handed over): the held rows go out on their day."""
    from usecases.bulk_execution import today

    day = today(uow)
    due = uow.batches.due_sub_batches(day, SWEEP_LIMIT)
    for batch_id, number in due:
        uow.outbox.send(steps.EXECUTE_SUB_BATCH, batch_id, number, again=f"release-{now:%Y%m%dT%H}")
    return len(due)
