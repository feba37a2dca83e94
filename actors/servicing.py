"""The daily servicing run's actor: one slice of loans for one as-of day, in one transaction."""
from __future__ import annotations

from datetime import date
from typing import Callable

from actors.transaction import UowFactory, in_one_transaction
from adapters.db.uow import UnitOfWork
from usecases import loan_servicing


def service_loans(uow: UowFactory, default_dpd: Callable[[], int]) -> Callable[..., None]:
    """SERVICE_LOANS(as_of, slice, slice size): a slice already run for that day is not run again."""
    def service_loans(u: UnitOfWork, as_of: str, slice_number: int, slice_size: int) -> None:
        loan_servicing.service_slice(u, date.fromisoformat(as_of), slice_number, slice_size, default_dpd())
    return in_one_transaction(uow, service_loans)
