"""A sub-batch: one payment mode's share of a batch, cut by size, handed to its connector as a unit. It
waits its turn (a few sub-batches of a batch run at once), executes, and is done once every row is
handed over; SUB_BATCH_MOVES says where each status may go."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.batches import BatchError
from domain.connectors import Connector


class SubBatchStatus(enum.StrEnum):
    """Where a sub-batch stands, as the batch's summary shows it."""

    PENDING = "pending"      # planned, its turn has not come
    EXECUTING = "executing"  # its rows are being handed over
    DONE = "done"            # every row handed over (their answers may come later)


SUB_BATCH_MOVES: dict[SubBatchStatus, frozenset[SubBatchStatus]] = {
    # pending → done: nothing was left to hand over when its turn came (every row failed or was handed over)
    SubBatchStatus.PENDING: frozenset({SubBatchStatus.EXECUTING, SubBatchStatus.DONE}),
    SubBatchStatus.EXECUTING: frozenset({SubBatchStatus.DONE}),
    SubBatchStatus.DONE: frozenset(),
}


@dataclass(eq=False)
class SubBatch:
    """Sub-batch ``number`` of a batch: its payment mode, its connector, how many rows, where it stands."""

    batch_pk: int
    number: int
    payment_mode: str
    connector: Connector | None
    rows: int
    created_at: datetime
    status: SubBatchStatus = SubBatchStatus.PENDING
    updated_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    id: int | None = None

    @property
    def done(self) -> bool:
        """Every row handed over: nothing more to execute."""
        return self.status == SubBatchStatus.DONE

    def start(self, at: datetime) -> None:
        """Pending → executing, when its first rows are handed over; an executing one stays as it is."""
        if self.status == SubBatchStatus.PENDING:
            self.move_to(SubBatchStatus.EXECUTING, at)

    def move_to(self, status: SubBatchStatus, at: datetime) -> None:
        """Move along pending → executing → done (or straight to done); raises BatchError for any other move."""
        if status not in SUB_BATCH_MOVES[self.status]:
            raise BatchError(f"sub-batch {self.number} of batch {self.batch_pk} cannot move from "
                             f"{self.status.value} to {status.value}")
        self.status, self.updated_at = status, at
        if status == SubBatchStatus.EXECUTING:
            self.started_at = at
        if status == SubBatchStatus.DONE:
            self.completed_at = at
