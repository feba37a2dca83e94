"""Bulk batches: a file of payments, its instructions (one per row, a stable id each), and the rules its
rows follow on their way: deduplication, the success-threshold check, sub-batch sizes, the counts and
amounts of a tally, and where a batch may move. (Rows are numbered into sub-batches, one payment mode
each, by a single statement over the batch: ``Instructions.assign_sub_batch``.)"""
from __future__ import annotations

import enum
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterable

from domain.bulk_files import InstructionDraft
from domain.errors import DomainError

DUPLICATE = "Duplicate transaction"
NOT_CONFIGURED = "Payment mode not configured"


class BatchStatus(str, enum.Enum):
    """Where a batch stands, as its summary shows it."""

    QUEUED = "queued"
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # its rows' dates were looked up: the client confirms them
    AWAITING_APPROVAL = "awaiting_approval"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class InstructionStatus(str, enum.Enum):
    """Where one row's payment stands; the result file says PENDING for the two in between."""

    PENDING = "pending"          # validated, not handed to its connector yet
    IN_PROGRESS = "in_progress"  # handed over; the connector's answer has not come
    SUCCESS = "success"
    FAILURE = "failure"

    @property
    def result(self) -> str:
        """The status the result file shows: SUCCESS, FAILURE or PENDING."""
        return {"success": "SUCCESS", "failure": "FAILURE"}.get(self.value, "PENDING")

    @property
    def is_final(self) -> bool:
        """Success and failure are final: nothing pays or fails the row again."""
        return self in (InstructionStatus.SUCCESS, InstructionStatus.FAILURE)


class BatchError(DomainError):
    """A move a batch or an instruction may not make."""


def instruction_id(batch_id: str, row: int) -> str:
    """An instruction's stable id: its batch and its row, so a re-run finds the same one."""
    return f"{batch_id}:{row}"


def duplicate_key(draft: InstructionDraft) -> tuple[str, ...]:
    """What makes two rows the same payment: payer, payee, amount and currency."""
    f = draft.fields
    amount = str(draft.amount.minor) if draft.amount is not None else f.get("amount", "")
    return (f.get("payer_identifier_type", "").lower(), f.get("payer_identifier", ""),
            f.get("payee_identifier_type", "").lower(), f.get("payee_identifier", ""), amount,
            f.get("currency", "").strip().upper())


def duplicate_digest(draft: InstructionDraft) -> str:
    """The duplicate key as a fixed-length digest, as the rows keep it."""
    return hashlib.sha256("\x1f".join(duplicate_key(draft)).encode()).hexdigest()


def first_payments(drafts: Iterable[InstructionDraft], seen: set[str]) -> dict[int, str | None]:
    """Each payable row's duplicate digest, or None when an earlier row has it: one before it here, or one
    whose digest is in ``seen`` (earlier pages; extended with these rows')."""
    digests: dict[int, str | None] = {}
    for draft in drafts:
        if draft.failure is not None:
            continue
        digest = duplicate_digest(draft)
        digests[draft.row] = None if digest in seen else digest
        seen.add(digest)
    return digests


def duplicates(drafts: Iterable[InstructionDraft]) -> set[int]:
    """The rows that repeat an earlier payable row's payer, payee, amount and currency."""
    return {row for row, digest in first_payments(drafts, set()).items() if digest is None}


def meets_threshold(payable: int, total: int, success_rate: Decimal) -> bool:
    """Whether at least ``success_rate`` percent of the rows passed validation."""
    return total > 0 and Decimal(payable) * 100 >= success_rate * total


def sub_batch_sizes(rows: int, size: int) -> list[int]:
    """How one payment mode's ``rows`` are cut into sub-batches of at most ``size`` rows, in order."""
    step = max(size, 1)
    return [min(step, rows - start) for start in range(0, rows, step)]


@dataclass(frozen=True)
class Tally:
    """Counts and amounts (minor units) of a batch's or a sub-batch's rows by how they stand."""

    total: int
    successful: int
    failed: int
    ongoing: int
    total_amount: int
    successful_amount: int
    failed_amount: int
    pending_amount: int

    @property
    def success_percentage(self) -> Decimal:
        """Successful rows as a percentage of all, to two decimals."""
        return _percent(self.successful, self.total)

    @property
    def fail_percentage(self) -> Decimal:
        """Failed rows as a percentage of all, to two decimals."""
        return _percent(self.failed, self.total)

    @property
    def finished(self) -> bool:
        """No row is still on its way."""
        return self.ongoing == 0


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01")) if whole else Decimal("0.00")


def tally_of(groups: Iterable[tuple[InstructionStatus, int, int]]) -> Tally:
    """The counts and amounts of rows given in groups: (status, how many rows, their amount)."""
    counts: Counter[str] = Counter()
    amounts: Counter[str] = Counter()
    for status, count, amount in groups:
        kind = "successful" if status == InstructionStatus.SUCCESS else (
            "failed" if status == InstructionStatus.FAILURE else "ongoing")
        counts[kind] += count
        amounts[kind] += amount
    return Tally(sum(counts.values()), counts["successful"], counts["failed"], counts["ongoing"],
                 sum(amounts.values()), amounts["successful"], amounts["failed"], amounts["ongoing"])


@dataclass(eq=False)
class Batch:
    """A submitted file of payments, as received: whose, under which X-CorrelationID, its content's digest,
    where it is kept, and where it stands."""

    batch_id: str
    tenant_id: int
    request_id: str
    content_sha256: str
    source: str  # csv or raw
    stored_at: str
    created_at: datetime
    filename: str = ""
    purpose: str = ""
    callback_url: str | None = None
    status: BatchStatus = BatchStatus.QUEUED
    reason: str | None = None
    rows: int = 0
    submitted_by_key_id: int | None = None
    approved_by_key_id: int | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    size_bytes: int = 0
    split_page: int = 0       # the next page of the file to split
    split_offset: int = 0     # where that page starts in the file (bytes)
    settled: int = 0          # rows with a final status
    sub_batch_count: int = 0
    acknowledged: int = 0     # the last progress (percent) acknowledged to the tenant
    date_type: str | None = None  # delivery or execution, when the file's dates are used
    dated_rows: int = 0       # rows whose dates were looked up
    id: int | None = None
    parallel_sub_batches: int = 2  # sub-batches running at once, fixed when the batch is planned
    acknowledgements_given_up_at: datetime | None = None  # its X-CallbackURL refused or kept failing

    @property
    def progress(self) -> int:
        """Settled rows as a whole percentage of all (0 before any row is known)."""
        return self.settled * 100 // self.rows if self.rows else 0

    def acknowledgements_due(self) -> list[int]:
        """The progress marks (20, 40, 60, 80, 100 %) reached and not yet acknowledged, marked as done."""
        due = [mark for mark in ACKNOWLEDGED_MARKS if self.acknowledged < mark <= self.progress]
        if due:
            self.acknowledged = due[-1]
        return due

    def move_to(self, status: BatchStatus, at: datetime, reason: str | None = None) -> None:
        """Move along queued → (awaiting_confirmation →) (awaiting_approval →) processing → completed, or
        to failed with a reason; raises BatchError for any other move."""
        if status not in BATCH_MOVES[self.status]:
            raise BatchError(f"batch {self.batch_id} cannot move from {self.status.value} to {status.value}")
        self.status, self.updated_at = status, at
        if reason is not None:
            self.reason = reason[:512]
        if status in (BatchStatus.COMPLETED, BatchStatus.FAILED):
            self.completed_at = at


ACKNOWLEDGED_MARKS = (20, 40, 60, 80, 100)

BATCH_MOVES: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.QUEUED: frozenset({BatchStatus.AWAITING_CONFIRMATION, BatchStatus.AWAITING_APPROVAL,
                                   BatchStatus.PROCESSING, BatchStatus.FAILED}),
    BatchStatus.AWAITING_CONFIRMATION: frozenset({BatchStatus.AWAITING_APPROVAL, BatchStatus.PROCESSING,
                                                  BatchStatus.FAILED}),
    BatchStatus.AWAITING_APPROVAL: frozenset({BatchStatus.PROCESSING, BatchStatus.FAILED}),
    BatchStatus.PROCESSING: frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED}),
    BatchStatus.COMPLETED: frozenset(),
    BatchStatus.FAILED: frozenset(),
}
