"""Payment tracking: every payment (a store transfer's order, a bulk row) has a UETR from its initiation,
and each change of its state is a payment event. The tracking view is the events folded in order: where
the payment stands, its dates and references, and its timeline."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

from domain import masking


class PaymentEventKind(str, enum.Enum):
    """What happened to a payment."""

    INITIATED = "initiated"
    DATES_COMPUTED = "dates_computed"
    SENT = "sent"          # handed to its rail or connector
    ACCEPTED = "accepted"  # the rail or connector has it (its reference known)
    LIQUIDATED = "liquidated"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    FAILED = "failed"


STATUS_OF_EVENT = {
    PaymentEventKind.INITIATED: "initiated", PaymentEventKind.SENT: "sent", PaymentEventKind.ACCEPTED: "accepted",
    PaymentEventKind.LIQUIDATED: "liquidated", PaymentEventKind.CANCELLED: "cancelled",
    PaymentEventKind.RETURNED: "returned", PaymentEventKind.FAILED: "failed",
}
FINAL = frozenset({"liquidated", "cancelled", "returned", "failed"})


@dataclass(frozen=True)
class PaymentEvent:
    """One event of a payment, as appended in the transaction of the change it records."""

    uetr: str
    kind: PaymentEventKind
    at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class PaymentView:
    """The read model of one payment: the events folded in order."""

    uetr: str
    source: str = ""
    status: str = "initiated"
    amount: int | None = None
    currency: str | None = None
    payee_account: str | None = None  # masked
    payee_name: str | None = None  # masked
    rail: str | None = None
    execution_date: date | None = None
    delivery_date: date | None = None
    tracking_key: str | None = None
    bank_reference: str | None = None
    reason: str | None = None
    merchant_id: int | None = None
    tenant_id: int | None = None
    batch_id: str | None = None
    updated_at: datetime | None = None

    def apply(self, event: PaymentEvent) -> None:
        """Fold one event in: its details fill what they name; its kind moves the status, except that a
        settled payment only moves to returned (the money came back)."""
        d = event.details
        for name in ("source", "amount", "currency", "rail", "tracking_key", "bank_reference", "reason",
                     "merchant_id", "tenant_id", "batch_id"):
            if d.get(name) is not None:
                setattr(self, name, d[name])
        if d.get("payee_account"):
            self.payee_account = masking.account(str(d["payee_account"]))
        if d.get("payee_name"):
            self.payee_name = masking.name(str(d["payee_name"]))
        for name in ("execution_date", "delivery_date"):
            if d.get(name):
                setattr(self, name, date.fromisoformat(str(d[name])))
        status = STATUS_OF_EVENT.get(event.kind)
        if status is not None and (self.status not in FINAL or status == "returned"):
            self.status = status
        self.updated_at = event.at
