"""Credits: originated at signature with their commission fixed, then delivered or cancelled."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.customers import RiskProfile
from domain.errors import DomainError
from domain.products import PaymentFrequency


class CreditError(DomainError, ValueError):
    """A credit move the rules forbid."""


class CreditStatus(str, enum.Enum):
    """Seed 004: a signed credit becomes active, may be frozen or disputed, and ends paid or cancelled."""

    SIGNED = "signed"
    ACTIVE = "active"
    FROZEN = "frozen"
    IN_DISPUTE = "in_dispute"
    PAID = "paid"
    CANCELLED = "cancelled"


class CancellationReason(str, enum.Enum):
    """Why a credit was cancelled."""

    REJECTED = "rejected"
    RETURNED = "returned"
    FRAUD = "fraud"
    DEATH = "death"
    REFINANCED = "refinanced"


# What a merchant's own partner key may cancel for: a purchase it rejects, a product returned to it.
MERCHANT_CANCELLATION_REASONS = frozenset({CancellationReason.REJECTED, CancellationReason.RETURNED})

# A loan is in use until it ends: paid or cancelled. An offer with at least one is tagged in_use.
ENDED = frozenset({CreditStatus.PAID, CreditStatus.CANCELLED})


@dataclass(eq=False)
class Credit:
    """A customer's credit at a store; its commission and contribution never change after signature."""

    merchant_id: int
    store_id: int
    amount: int
    currency: str
    number_of_payments: int
    payment_option_id: int
    commission_rate: Decimal
    tax_rate: Decimal
    commission: int
    tax: int
    contribution: int
    signed_at: datetime
    external_id: str
    status: CreditStatus = CreditStatus.SIGNED
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: CancellationReason | None = None
    disbursed: bool = False
    id: int | None = None
    # The customer's side (seed 004's loan), set when a loan request signs the credit; a credit originated
    # without a customer has none of it and no schedule. Its terms are fixed at signature.
    customer_id: int | None = None
    product_id: int | None = None
    risk_profile: RiskProfile | None = None
    annual_rate: Decimal | None = None   # after the risk profile's grade and the offer's discount
    payment_frequency: PaymentFrequency | None = None
    grace_months: int | None = None
    status_on: date | None = None        # the business day of the last status change
    serviced_on: date | None = None      # the last business day the servicing brought it up to
    days_past_due: int = 0               # as of serviced_on

    @property
    def is_loan(self) -> bool:
        """Whether it has the customer's side: a schedule, interest, repayments."""
        return self.customer_id is not None

    def deliver(self, at: datetime) -> None:
        """The product was delivered: a signed credit becomes active. Raises CreditError for any other status."""
        if self.status != CreditStatus.SIGNED:
            raise CreditError(f"credit {self.id} is {self.status.value}, only a signed credit can be delivered")
        self.status = CreditStatus.ACTIVE
        self.delivered_at = at

    def cancel(self, reason: CancellationReason, at: datetime) -> bool:
        """Cancel; True when it had been delivered (so a contribution must be compensated)."""
        if self.status in (CreditStatus.CANCELLED, CreditStatus.PAID):
            raise CreditError(f"credit {self.id} is {self.status.value} and cannot be cancelled")
        self.status = CreditStatus.CANCELLED
        self.cancellation_reason = reason
        self.cancelled_at = at
        return self.delivered_at is not None
