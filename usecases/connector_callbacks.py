"""A payment connector's callback is a claim about one row: it counts only for a row of that connector
waiting for its word (handed over, in a batch that is processing), and only once the connector's own
status query shows the same final word. A claim the query contradicts changes nothing and raises an
ALERT; so does a signed callback naming a row the connector has no say over."""
from __future__ import annotations

from typing import Any, Mapping

from usecases.ports import UnitOfWork
from domain.batches import BatchStatus, InstructionStatus
from domain.connectors import Answer, Outcome, Payment
from domain.instructions import Instruction
from usecases import bulk_execution, steps


def refusal(uow: UnitOfWork, row: Instruction, connector: str) -> str | None:
    """Why ``connector`` has no say over the row (another payment mode, not handed over, its batch not
    processing), or None when the row waits for its word."""
    batch = uow.batches.of_pk(row.batch_pk)
    if row.connector != connector:
        return f"row {row.row} of batch {batch.batch_id} is paid by {row.connector}, not {connector}"
    if row.status != InstructionStatus.IN_PROGRESS:
        return f"row {row.row} of batch {batch.batch_id} is {row.status.value}, not waiting for {connector}"
    if batch.status != BatchStatus.PROCESSING:
        return f"batch {batch.batch_id} is {batch.status.value}, not processing"
    return None


def _waiting_row(uow: UnitOfWork, uetr: str, connector: str, claim: Answer) -> Instruction | str | None:
    """The row when it waits for the connector's word; why not (with an ALERT) when the connector has no
    say over it; None for a late word on its own row settled already (a duplicate)."""
    row = uow.instructions.by_uetr(uetr)
    if row.connector == connector and row.status.is_final:
        return None
    refused = refusal(uow, row, connector)
    if refused is None:
        return row
    uow.alert("connector_callback_refused", f"{connector} callback ({claim.outcome.value}) refused: {refused}; "
              "nothing applied", reference=row.uetr)
    return refused


def receive(uow: UnitOfWork, connector: str, uetr: str, digest: str, answer: Answer) -> str | None:
    """Queue a signed callback for the bulk workers; returns why it is refused (with an ALERT), or None.
    A late word on a row of this connector settled already is a duplicate: answered, not queued."""
    row = _waiting_row(uow, uetr, connector, answer)
    if not isinstance(row, Instruction):
        return row
    uow.outbox.send(steps.APPLY_CONNECTOR_CALLBACK, row.uetr, digest, {
        "connector": connector, "outcome": answer.outcome.value, "reference": answer.reference,
        "error_code": answer.error_code, "error_description": answer.error_description})
    uow.log("connector_callback", f"{connector} callback for row {row.instruction_id}: {answer.outcome.value}",
            reference=row.uetr)
    return None


def claim_of(message: Mapping[str, Any]) -> tuple[str, Answer]:
    """The connector and its answer, as ``receive`` queued them (GSMA's before the connector was named)."""
    return str(message.get("connector") or "gsma"), Answer(
        Outcome(message["outcome"]), message.get("reference"), message.get("error_code"),
        message.get("error_description"))


def to_confirm(uow: UnitOfWork, uetr: str, connector: str, claim: Answer, callback_base: str
               ) -> tuple[Payment, str | None] | None:
    """The payment to ask the connector about, with the reference our own calls recorded for it; None
    when there is nothing to confirm: a pending word
    moves nothing, and a row the connector has no say over (any more) is left alone, with an ALERT
    unless it is this connector's and settled already."""
    if claim.outcome == Outcome.PENDING:
        return None
    row = _waiting_row(uow, uetr, connector, claim)
    if not isinstance(row, Instruction):
        return None
    found = bulk_execution.remote_payment(uow, uetr, callback_base)
    return (found[1], row.connector_reference) if found is not None else None


def settle(uow: UnitOfWork, uetr: str, connector: str, claim: Answer, shown: Answer) -> bool:
    """The callback against what the connector's status query showed: the same final word is recorded
    (as the query showed it); any other changes nothing and raises an ALERT. Returns whether it settled."""
    same = shown.outcome == claim.outcome
    if same and claim.outcome == Outcome.SUCCESS and claim.reference and shown.reference != claim.reference:
        same = False  # a success, but of another transaction than the one the callback names
    if not same:
        row = uow.instructions.by_uetr(uetr)
        uow.alert("connector_callback_contradicted", f"{connector} callback for row {row.instruction_id} says "
                  f"{claim.outcome.value} ({claim.reference or 'no reference'}); its status query shows "
                  f"{shown.outcome.value} ({shown.reference or shown.error_description or 'no reference'}); "
                  "nothing applied", reference=row.uetr)
        return False
    return bulk_execution.record_answer(uow, uetr, shown)
