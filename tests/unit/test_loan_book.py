"""The loan book's identities: a sound book has no violation, and each broken identity is named."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from domain.credits import CreditStatus as L
from domain.loan_balances import Allocation, AppliedPayment, InterestState, LoanRecord, position
from domain.loan_book import LoanBook, verify
from domain.loan_schedules import LoanTerms, build_schedule

SCHEDULE = build_schedule(LoanTerms(300_000, 3, date(2026, 1, 10), Decimal("0.36")))
DAY = date(2026, 3, 15)
FIRST = SCHEDULE[0]
PAYMENT = AppliedPayment(1, FIRST.amount, date(2026, 2, 10), (Allocation(1, FIRST.interest, FIRST.principal),))


def book(*payments: AppliedPayment, status: L = L.ACTIVE, principal: int = 300_000) -> LoanBook:
    return LoanBook(1, principal, status, position(LoanRecord(SCHEDULE, payments=payments), DAY), payments)


def test_a_sound_book_has_no_violation() -> None:
    assert verify(book(PAYMENT)) == []


def test_a_principal_that_does_not_add_up_is_named() -> None:
    [violation] = verify(book(PAYMENT, principal=300_001))
    assert "principal 300001 != repaid" in violation


def test_interest_that_does_not_add_up_is_named() -> None:
    sound = book(PAYMENT)
    rows = list(sound.position.installments)
    rows[1] = replace(rows[1], interest_state=InterestState.WAIVED, interest_paid=10)  # paid what was never charged
    violations = verify(replace(sound, position=replace(sound.position, installments=tuple(rows))))
    assert any("interest charged" in v for v in violations)
    assert any("installment 2 interest paid 10 of 0 charged" in v for v in violations)


def test_a_payment_applied_twice_or_not_in_full_is_named() -> None:
    assert any("applied 2 times" in v for v in verify(book(PAYMENT, PAYMENT)))
    short = replace(PAYMENT, amount=FIRST.amount + 1)
    assert any("is allocated" in v for v in verify(book(short)))
    split = replace(PAYMENT, allocations=(Allocation(1, FIRST.interest, 0), Allocation(1, 0, FIRST.principal)))
    assert any("pays installments [1, 1]" in v for v in verify(book(split)))
    negative = replace(PAYMENT, amount=0, allocations=(Allocation(1, 5, -5),))
    assert any("negative part" in v for v in verify(book(negative)))


def test_a_paid_loan_that_owes_is_named() -> None:
    [violation] = verify(book(PAYMENT, status=L.PAID))
    assert "paid but owes" in violation
