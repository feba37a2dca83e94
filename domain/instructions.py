"""An instruction: one row of a batch on its way to being paid. It is handed to its connector once and
settled once; a second word on a settled instruction changes nothing, except a bank's return of a
SPEI payment, which turns a success into a failure (the money came back)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

from domain.batches import InstructionStatus
from domain.connectors import Connector

RETURNED = "RETURNED"


@dataclass(eq=False)
class Instruction:
    """A row of a batch: its stable id (batch and row) and UETR, what it pays, and where it stands."""

    batch_pk: int
    row: int
    instruction_id: str
    uetr: str
    payment_mode: str
    connector: Connector | None
    payee_identifier: str
    amount: int | None
    currency: str
    status: InstructionStatus
    fields: Mapping[str, str] = field(default_factory=dict)
    sub_batch: int | None = None
    error_code: str | None = None
    error_description: str | None = None
    connector_reference: str | None = None
    payment_order_id: int | None = None
    attempts: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    id: int | None = None
    rail: str | None = None
    requested_date: date | None = None
    execution_date: date | None = None  # held until then, when set
    delivery_date: date | None = None

    def hand_over(self, at: datetime) -> bool:
        """Pending → in progress: the connector is being asked. False when it was handed over already."""
        if self.status != InstructionStatus.PENDING:
            return False
        self.status, self.started_at = InstructionStatus.IN_PROGRESS, at
        return True

    def settle(self, success: bool, at: datetime, code: str | None = None, description: str | None = None) -> bool:
        """The final word: success, or failure with its code and description. Returns False (and changes
        nothing) when the instruction was settled already: a duplicate callback, a redelivery."""
        if self.status.is_final:
            return False
        self.status = InstructionStatus.SUCCESS if success else InstructionStatus.FAILURE
        self.completed_at, self.started_at = at, self.started_at or at
        if not success:
            self.error_code, self.error_description = (code or "FAILED")[:32], (description or "")[:512]
        return True

    def returned(self, at: datetime, cause: str | None) -> bool:
        """The bank returned a paid SPEI row: it is a failure now. False unless it had succeeded."""
        if self.status != InstructionStatus.SUCCESS:
            return False
        self.status, self.completed_at = InstructionStatus.FAILURE, at
        self.error_code, self.error_description = RETURNED, f"returned by the bank: {cause or 'no cause given'}"[:512]
        return True
