"""Pre-loans (seed 004, "Pre-Loans"): a customer's request for a loan at a store is pending until it is
rejected or completed; completing it signs the credit, the loan."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError

REJECTION_LENGTH = 255


class LoanRequestError(DomainError, ValueError):
    """A move of a loan request the table refuses."""


class LoanRequestStatus(str, enum.Enum):
    PENDING = "pending"
    REJECTED = "rejected"
    COMPLETED = "completed"


LOAN_REQUEST_MOVES: dict[LoanRequestStatus, frozenset[LoanRequestStatus]] = {
    LoanRequestStatus.PENDING: frozenset({LoanRequestStatus.REJECTED, LoanRequestStatus.COMPLETED}),
    LoanRequestStatus.REJECTED: frozenset(),
    LoanRequestStatus.COMPLETED: frozenset(),
}


@dataclass(eq=False)
class LoanRequest:
    """A customer's request for a loan of ``amount`` in ``number_of_payments`` at a store."""

    lender: str
    external_id: str
    customer_id: int
    store_id: int
    amount: int
    currency: str
    number_of_payments: int
    created_at: datetime
    status: LoanRequestStatus = LoanRequestStatus.PENDING
    rejection: str | None = None
    credit_id: int | None = None
    decided_at: datetime | None = None
    id: int | None = None

    def _move(self, to: LoanRequestStatus, at: datetime) -> None:
        if to not in LOAN_REQUEST_MOVES[self.status]:
            raise LoanRequestError(f"loan request {self.id} is {self.status.value} and cannot become {to.value}")
        self.status, self.decided_at = to, at

    def reject(self, why: str, at: datetime) -> None:
        """Refused (the customer may not borrow, no offer fits, …), with the reason kept whole."""
        if not why.strip() or len(why) > REJECTION_LENGTH:
            raise LoanRequestError(f"a rejection's reason is 1 to {REJECTION_LENGTH} characters")
        self._move(LoanRequestStatus.REJECTED, at)
        self.rejection = why

    def complete(self, credit_id: int, at: datetime) -> None:
        """Signed: the request became credit ``credit_id``."""
        self._move(LoanRequestStatus.COMPLETED, at)
        self.credit_id = credit_id
