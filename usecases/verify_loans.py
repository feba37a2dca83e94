"""``dispersa loans verify`` and the loan book's part of the daily ledger check: for every loan, the book's
identities (domain.loan_book) on its position recomputed from its record, and what the loan use cases and the
servicing run stored (installments, days past due, paid parts) against the same record
(domain.loan_servicing). Loans are read a batch at a time, each batch in its own short read."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from domain.loan_servicing import check_loan
from usecases.loan_days import lender_today
from usecases.ports import UnitOfWork

BATCH = 500  # loans per read


@dataclass
class LoanBookReport:
    """The loans checked, as of which day, and the violations found."""

    as_of: date
    loans: int = 0
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.loans} loans as of {self.as_of}, {len(self.violations)} violations"


def verify_loans(new_uow: Callable[[], UnitOfWork], as_of: date | None = None,
                 progress: Callable[[int, int], None] | None = None) -> LoanBookReport:
    """Check every loan; ``as_of`` defaults to the lender's business day. ``progress(done, total)`` after
    each batch."""
    with new_uow() as uow:
        report = LoanBookReport(as_of or lender_today(uow))
        total = uow.servicing.loan_count()
    after = 0
    while True:
        with new_uow() as uow:
            ids = uow.servicing.loan_ids_after(after, BATCH)
            loans = uow.servicing.stored_loans(ids)
        if not ids:
            return report
        for loan in loans:
            report.violations.extend(check_loan(loan, report.as_of))
        report.loans += len(loans)
        after = ids[-1]
        if progress:
            progress(report.loans, total)
