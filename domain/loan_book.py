"""The loan book's identities, checked one loan at a time; each check returns its violations as text.

- principal = principal repaid + outstanding principal (+ principal voided by a cancellation);
- interest charged = interest repaid + interest due (active and inactive);
- every accepted payment is applied once, and in full;
- no installment is paid beyond what it charges;
- a paid loan owes nothing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from domain.credits import CreditStatus as L
from domain.loan_balances import AppliedPayment, LoanPosition


@dataclass(frozen=True)
class LoanBook:
    """What the checks read of one loan: the principal it was signed for, its status, its position as of a
    day, and its accepted payments with their allocations (reversed ones included)."""

    loan_id: int | None
    principal: int
    status: L
    position: LoanPosition
    payments: Sequence[AppliedPayment] = ()


def check_principal(book: LoanBook) -> Iterable[str]:
    """principal = repaid + outstanding + voided."""
    p = book.position
    accounted = p.principal_repaid + p.principal_outstanding + p.principal_voided
    if book.principal != accounted or p.principal != book.principal:
        yield (f"loan {book.loan_id}: principal {book.principal} != repaid {p.principal_repaid} + outstanding "
               f"{p.principal_outstanding} + voided {p.principal_voided} (schedule's principal {p.principal})")


def check_interest(book: LoanBook) -> Iterable[str]:
    """interest charged = interest repaid + interest due (active + inactive)."""
    p = book.position
    if p.interest_charged != p.interest_repaid + p.interest_due + p.interest_inactive:
        yield (f"loan {book.loan_id}: interest charged {p.interest_charged} != repaid {p.interest_repaid} + due "
               f"{p.interest_due} + inactive {p.interest_inactive}")


def check_payments_applied_once(book: LoanBook) -> Iterable[str]:
    """Each accepted payment appears once and its allocations add up to its amount, one part per installment."""
    seen = Counter(p.payment_id for p in book.payments if p.payment_id is not None)
    for payment_id, times in seen.items():
        if times > 1:
            yield f"loan {book.loan_id}: payment {payment_id} is applied {times} times"
    numbers = {i.number for i in book.position.installments}
    for payment in book.payments:
        allocated = sum(a.amount for a in payment.allocations)
        if allocated != payment.amount:
            yield f"loan {book.loan_id}: payment {payment.payment_id} of {payment.amount} is allocated {allocated}"
        parts = Counter(a.installment for a in payment.allocations)
        if any(n > 1 for n in parts.values()) or not set(parts) <= numbers:
            yield f"loan {book.loan_id}: payment {payment.payment_id} pays installments {sorted(parts.elements())}"
        if any(a.interest < 0 or a.principal < 0 for a in payment.allocations):
            yield f"loan {book.loan_id}: payment {payment.payment_id} has a negative part"


def check_installments(book: LoanBook) -> Iterable[str]:
    """No installment is paid beyond its principal or beyond the interest it charged."""
    for i in book.position.installments:
        if not 0 <= i.principal_paid <= i.principal:
            yield f"loan {book.loan_id}: installment {i.number} principal paid {i.principal_paid} of {i.principal}"
        if not 0 <= i.interest_paid <= i.interest_charged:
            yield (f"loan {book.loan_id}: installment {i.number} interest paid {i.interest_paid} "
                   f"of {i.interest_charged} charged")


def check_paid_owes_nothing(book: LoanBook) -> Iterable[str]:
    """A paid loan has no principal, interest due or inactive interest left."""
    p = book.position
    if book.status == L.PAID and not p.settled:
        yield (f"loan {book.loan_id}: paid but owes principal {p.principal_outstanding}, interest "
               f"{p.interest_due}, inactive interest {p.interest_inactive}")


CHECKS: tuple[Callable[[LoanBook], Iterable[str]], ...] = (
    check_principal, check_interest, check_payments_applied_once, check_installments, check_paid_owes_nothing,
)


def verify(book: LoanBook) -> list[str]:
    """Every violation of the loan book's identities for one loan; empty when it adds up."""
    return [violation for check in CHECKS for violation in check(book)]
