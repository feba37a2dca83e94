"""The daily servicing run's values and the checks of what it stores.

The run (adapters.db.servicing, set-based) carries each loan from its ``serviced_on`` to the as-of day and
stores where its installments stand; these checks compare what is stored with domain.loan_balances.position
computed from the loan's record, as ``loans verify`` does for every loan.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from domain.credits import CreditStatus
from domain.loan_balances import InterestState, LoanPosition, LoanRecord, position
from domain.loan_book import LoanBook, verify


@dataclass(frozen=True)
class ServicedSlice:
    """What one slice's run did: loans carried to the as-of day, installments that fell due, frozen loans'
    installments moved, loans late after it."""

    loans: int
    fell_due: int
    moved: int
    late: int


@dataclass(frozen=True)
class StoredInstallment:
    """An installment as stored: its due date after freezes, what is paid of it and its interest state."""

    number: int
    due_on: date
    principal_paid: int
    interest_paid: int
    interest_state: InterestState


@dataclass(frozen=True)
class StoredLoan:
    """A loan as the book check reads it: what its credit row says, its record, its installments as stored."""

    credit_id: int
    principal: int
    status: CreditStatus
    serviced_on: date | None
    days_past_due: int
    record: LoanRecord
    installments: tuple[StoredInstallment, ...]


def slice_bounds(slice_number: int, size: int) -> tuple[int, int]:
    """The credit ids of a slice: slice 0 is ids 1..size, slice 1 the next ``size``, and so on."""
    return slice_number * size + 1, (slice_number + 1) * size


def slices_up_to(last_id: int, size: int) -> range:
    """The slices that cover credit ids 1..last_id."""
    return range(0, (last_id + size - 1) // size) if last_id > 0 else range(0)


def standing_installments(at: LoanPosition) -> tuple[StoredInstallment, ...]:
    """What the stored installments should be for a position."""
    return tuple(StoredInstallment(i.number, i.due_on, i.principal_paid, i.interest_paid, i.interest_state)
                 for i in at.installments)


def check_stored(loan: StoredLoan) -> Iterable[str]:
    """The stored installments and days past due equal the position recomputed as of serviced_on."""
    if loan.serviced_on is None:
        return
    expected = position(loan.record, loan.serviced_on)
    for want, got in zip(standing_installments(expected), loan.installments):
        if want != got:
            yield (f"loan {loan.credit_id}: installment {got.number} stored as due {got.due_on}, paid "
                   f"{got.principal_paid}+{got.interest_paid}, {got.interest_state.value}; its record gives due "
                   f"{want.due_on}, paid {want.principal_paid}+{want.interest_paid}, {want.interest_state.value} "
                   f"as of {loan.serviced_on}")
    if len(expected.installments) != len(loan.installments):
        yield (f"loan {loan.credit_id}: {len(loan.installments)} installments stored, "
               f"{len(expected.installments)} in its schedule")
    if expected.days_past_due != loan.days_past_due:
        yield (f"loan {loan.credit_id}: {loan.days_past_due} days past due stored, {expected.days_past_due} "
               f"as of {loan.serviced_on}")


def check_paid_parts(loan: StoredLoan) -> Iterable[str]:
    """Each stored installment's paid parts equal the allocations of the payments standing on serviced_on."""
    if loan.serviced_on is None:
        return
    day = loan.serviced_on
    for stored in loan.installments:
        parts = [a for p in loan.record.payments if p.counts_on(day) for a in p.allocations
                 if a.installment == stored.number]
        interest, principal = sum(a.interest for a in parts), sum(a.principal for a in parts)
        if (stored.interest_paid, stored.principal_paid) != (interest, principal):
            yield (f"loan {loan.credit_id}: installment {stored.number} stored as paid {stored.principal_paid} "
                   f"principal + {stored.interest_paid} interest; the payments standing on {day} allocate "
                   f"{principal} + {interest}")


def check_loan(loan: StoredLoan, as_of: date) -> list[str]:
    """Every violation of one loan: the book's identities on its position as of ``as_of`` recomputed from
    its record, and what is stored against its position as of serviced_on. A payment allocated to an
    installment the schedule does not have is reported alone: no position can be computed from it."""
    numbers = {i.number for i in loan.record.schedule}
    strays = [f"loan {loan.credit_id}: payment {p.payment_id} pays installment {a.installment}, which its "
              f"schedule does not have" for p in loan.record.payments for a in p.allocations
              if a.installment not in numbers]
    if strays:
        return strays
    book = LoanBook(loan.credit_id, loan.principal, loan.status, position(loan.record, as_of),
                    loan.record.payments)
    return verify(book) + list(check_stored(loan)) + list(check_paid_parts(loan))
