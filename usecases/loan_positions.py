"""Bringing one loan up to date: whatever changes a loan (a status move, a payment, a reversal) ends by
computing its position as of the business day of the change and writing it back, so the stored
installments always equal what domain.loan_balances computes; the daily servicing run carries on from there
for every loan as a set."""
from __future__ import annotations

from datetime import date

from domain.credits import Credit
from domain.loan_balances import LoanPosition, position
from usecases.ports import UnitOfWork


def current_position(uow: UnitOfWork, credit: Credit, on: date) -> LoanPosition:
    """The loan's position as of the end of ``on``, computed from its record (nothing written)."""
    return position(uow.loans.record(credit), on)


def bring_up_to_date(uow: UnitOfWork, credit: Credit, on: date) -> LoanPosition:
    """Compute the loan's position as of ``on`` and write it: each installment's standing, and the credit's
    days past due as of that day. The credit must be locked by the caller."""
    assert credit.id is not None
    now = current_position(uow, credit, on)
    uow.loans.write_position(credit.id, now)
    if credit.serviced_on is None or on >= credit.serviced_on:
        credit.serviced_on, credit.days_past_due = on, now.days_past_due
    return now
