"""Repayments (seed 004, "Pre-Payments & Payments"): a pre-payment is pending until it is rejected or completed;
a completed one is a payment accepted and applied to the loan, which may later be reversed.

An accepted payment pays the installments that are due, oldest first, interest then principal; what is left
prepays principal from the last installment backwards (the term shortens, and an installment whose principal
is repaid before it falls due charges no interest). Each payment keeps its allocation per installment, so a
reversal re-opens exactly what it paid.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.credits import CreditStatus as L
from domain.customers import OWN_LENDER
from domain.errors import DomainError
from domain.loan_balances import Allocation, AppliedPayment, LoanPosition
from domain.loans import LOAN_MOVES, LoanEvent
from domain.money import MAX_MINOR


class RepaymentError(DomainError, ValueError):
    """A repayment move the rules forbid."""


class RepaymentRefused(RepaymentError):
    """A payment the loan cannot take: its status, the channel, or an amount above what is owed."""


class PrePaymentStatus(str, enum.Enum):
    PENDING = "pending"
    REJECTED = "rejected"
    COMPLETED = "completed"


class PaymentStatus(str, enum.Enum):
    ACCEPTED = "accepted"
    REVERSED = "reversed"


class PaymentChannel(str, enum.Enum):
    """Who started the payment: the platform collecting by itself, or the customer."""

    AUTOMATIC = "automatic"
    VOLUNTARY = "voluntary"


class ReversalReason(str, enum.Enum):
    """Why a payment goes back to the customer (seed 004)."""

    FRAUD = "fraud"
    DISPUTE = "dispute"
    REFUND = "refund"
    REJECTION = "rejection"
    BUSINESS_RULE = "business_rule"


PRE_PAYMENT_MOVES: dict[PrePaymentStatus, frozenset[PrePaymentStatus]] = {
    PrePaymentStatus.PENDING: frozenset({PrePaymentStatus.REJECTED, PrePaymentStatus.COMPLETED}),
    PrePaymentStatus.REJECTED: frozenset(),
    PrePaymentStatus.COMPLETED: frozenset(),
}
PAYMENT_MOVES: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.ACCEPTED: frozenset({PaymentStatus.REVERSED}),
    PaymentStatus.REVERSED: frozenset(),
}

# The channels a loan takes in each status (seed 004's allowed actions). Frozen: the manual's allowed action
# is "voluntary payments"; its deadlines moved, so nothing is collected automatically. In dispute: automatic
# payments stop, a customer may still pay. Signed (not delivered), paid and cancelled loans take nothing.
CHANNELS_BY_STATUS: dict[L, frozenset[PaymentChannel]] = {
    L.SIGNED: frozenset(),
    L.ACTIVE: frozenset({PaymentChannel.AUTOMATIC, PaymentChannel.VOLUNTARY}),
    L.FROZEN: frozenset({PaymentChannel.VOLUNTARY}),
    L.IN_DISPUTE: frozenset({PaymentChannel.VOLUNTARY}),
    L.PAID: frozenset(),
    L.CANCELLED: frozenset(),
}


def payment_refusal(status: L, channel: PaymentChannel, product_active: bool = True) -> str | None:
    """Why a loan in ``status`` cannot take a payment by ``channel`` (None when it can). An inactive product
    stops every promise to pay, so nothing is collected automatically from it."""
    if channel not in CHANNELS_BY_STATUS[status]:
        allowed = ", ".join(sorted(c.value for c in CHANNELS_BY_STATUS[status])) or "none"
        return f"a loan that is {status.value} takes no {channel.value} payment (it takes: {allowed})"
    if channel == PaymentChannel.AUTOMATIC and not product_active:
        return "the loan's product is inactive: nothing is collected automatically"
    return None


def allocate(position: LoanPosition, amount: int) -> tuple[Allocation, ...]:
    """How ``amount`` pays the loan on the position's day: installments due, oldest first, interest then
    principal; the rest prepays principal from the last installment backwards. RepaymentRefused for an
    amount that is not positive or above what is owed."""
    if not 0 < amount <= MAX_MINOR:
        raise RepaymentRefused(f"a payment is between 1 and {MAX_MINOR} minor units, got {amount}")
    if amount > position.payoff:
        raise RepaymentRefused(f"a payment of {amount} is above what the loan owes today ({position.payoff})")
    due = [i for i in position.installments if i.is_due(position.as_of)]
    ahead = [i for i in reversed(position.installments) if not i.is_due(position.as_of)]
    parts, left = [], amount
    for row in due:
        interest = min(left, row.interest_due)
        principal = min(left - interest, row.principal_outstanding)
        left -= interest + principal
        parts.append(Allocation(row.number, interest, principal))
    for row in ahead:
        principal = min(left, row.principal_outstanding)
        left -= principal
        parts.append(Allocation(row.number, 0, principal))
    return tuple(sorted((p for p in parts if p.amount), key=lambda p: p.installment))


@dataclass(frozen=True)
class RepaymentStatusChange:
    """One row of a repayment's status history: a pre-payment's move, or its payment's."""

    from_status: str | None
    to_status: str
    at: datetime
    detail: str | None = None


@dataclass(eq=False)
class Repayment:
    """A customer's payment to one loan, from the pre-payment to the payment and its possible reversal."""

    loan_id: int | None
    amount: int
    channel: PaymentChannel
    requested_at: datetime
    external_id: str = ""
    recorded_by_operator: bool = False  # paid outside the platform, recorded by a person
    lender: str = OWN_LENDER            # the scope of external_id
    status: PrePaymentStatus = PrePaymentStatus.PENDING
    payment_status: PaymentStatus | None = None
    accepted_on: date | None = None
    allocations: tuple[Allocation, ...] = ()
    rejection: str | None = None
    reversed_on: date | None = None
    reversal_reason: ReversalReason | None = None
    id: int | None = None
    history: list[RepaymentStatusChange] = field(default_factory=list)

    def _move(self, to: PrePaymentStatus, at: datetime, detail: str | None = None) -> None:
        if to not in PRE_PAYMENT_MOVES[self.status]:
            raise RepaymentError(f"repayment {self.id} is {self.status.value} and cannot become {to.value}")
        self.history.append(RepaymentStatusChange(self.status.value, to.value, at, detail))
        self.status = to

    def reject(self, why: str, at: datetime) -> None:
        """The payment was not approved: the process ends."""
        self._move(PrePaymentStatus.REJECTED, at, why)
        self.rejection = why

    def complete(self, position: LoanPosition, on: date, at: datetime, product_active: bool = True) -> None:
        """Confirmed: it becomes a payment accepted and applied to the loan as of ``on``. RepaymentRefused
        (and nothing changes) when the loan's status or the channel forbids it or it is above what is owed."""
        if self.status != PrePaymentStatus.PENDING:
            raise RepaymentError(f"repayment {self.id} is {self.status.value}, only a pending one completes")
        refusal = payment_refusal(position.status, self.channel, product_active)
        if refusal:
            raise RepaymentRefused(refusal)
        if position.as_of != on:
            raise RepaymentError(f"a payment on {on} is applied to the loan as of that day, not {position.as_of}")
        allocations = allocate(position, self.amount)
        self._move(PrePaymentStatus.COMPLETED, at)
        self.payment_status, self.accepted_on, self.allocations = PaymentStatus.ACCEPTED, on, allocations
        self.history.append(RepaymentStatusChange(None, PaymentStatus.ACCEPTED.value, at))

    def reverse(self, reason: ReversalReason, on: date, at: datetime) -> None:
        """Give the payment back: what it paid is owed again from ``on``. RepaymentError unless accepted."""
        if self.payment_status is None or PaymentStatus.REVERSED not in PAYMENT_MOVES[self.payment_status]:
            state = self.payment_status.value if self.payment_status else self.status.value
            raise RepaymentError(f"repayment {self.id} is {state}; only an accepted payment is reversed")
        assert self.accepted_on is not None
        if on < self.accepted_on:
            raise RepaymentError(f"a payment accepted on {self.accepted_on} cannot be reversed on {on}")
        self.history.append(RepaymentStatusChange(self.payment_status.value, PaymentStatus.REVERSED.value, at,
                                                  reason.value))
        self.payment_status, self.reversed_on, self.reversal_reason = PaymentStatus.REVERSED, on, reason

    def applied(self) -> AppliedPayment | None:
        """The payment as the loan's balances see it; None before it was accepted."""
        if self.accepted_on is None:
            return None
        return AppliedPayment(self.id, self.amount, self.accepted_on, self.allocations, self.reversed_on)


def settlement_event(status: L, position: LoanPosition) -> LoanEvent | None:
    """The move a loan makes by itself after a payment or a reversal: settle once it owes nothing, reopen a
    paid loan that owes again; None when it stays as it is."""
    if position.settled and status in LOAN_MOVES[LoanEvent.SETTLE].from_statuses:
        return LoanEvent.SETTLE
    if not position.settled and status == L.PAID:
        return LoanEvent.REOPEN
    return None
