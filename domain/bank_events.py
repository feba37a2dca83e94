"""A status callback from the bank, as it arrived, and what became of it."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class BankEventStatus(str, enum.Enum):
    """Where the processing of a bank callback stands."""

    RECEIVED = "received"            # stored; its processing message is queued
    APPLIED = "applied"              # the outcome changed the order
    IGNORED = "ignored"              # a duplicate, or an outcome the order already passed
    CONFLICT = "conflict"            # the bank contradicts what we recorded: nothing applied, an alert
    CONFIRMING = "confirming"        # a return or cancellation of an order that may have paid: a claim,
                                     # applied only once the bank's own query (consultaOrden) agrees
    CONTRADICTED = "contradicted"    # the bank's query contradicts the callback: nothing applied, an alert
    UNKNOWN_ESTADO = "unknown_estado"
    UNMATCHED = "unmatched"          # no order known yet: retried until a deadline
    ORPHANED = "orphaned"            # matched no order before the deadline: an alert

    @property
    def is_final(self) -> bool:
        """True once processing is over: every status but Received, Unmatched and Confirming."""
        return self not in (BankEventStatus.RECEIVED, BankEventStatus.UNMATCHED, BankEventStatus.CONFIRMING)


@dataclass(eq=False)
class BankEvent:
    """One callback: its body as sent, the fields we match it by, and its processing."""

    body_hash: str
    body: dict[str, Any]
    estado: str
    received_at: datetime
    bank_order_id: int | None = None
    folio_origen: str | None = None
    status: BankEventStatus = BankEventStatus.RECEIVED
    payment_order_id: int | None = None
    attempts: int = 0
    processed_at: datetime | None = None
    note: str | None = None
    id: int | None = None

    def mark(self, status: BankEventStatus, note: str, at: datetime, order_id: int | None = None) -> None:
        """Record one processing attempt: its status, the note (cut to 255 characters), the time and
        the order it matched, if any."""
        self.status = status
        self.note = note[:255]
        self.processed_at = at
        self.payment_order_id = order_id
        self.attempts += 1
