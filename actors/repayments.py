"""Repayment actors: each opens one unit of work, calls one use case, commits."""
from __future__ import annotations

from typing import Callable

from actors.transaction import UowFactory, in_one_transaction
from adapters.db.uow import UnitOfWork
from usecases import repayments
from usecases.customers import CustomerRules


def apply_repayment(uow: UowFactory, rules: Callable[[], CustomerRules]) -> Callable[..., None]:
    """Complete or reject a pending repayment; one that is not pending any more is left as it is."""
    def apply_repayment(u: UnitOfWork, repayment_id: int) -> None:
        repayments.apply(u, repayment_id, rules())
    return in_one_transaction(uow, apply_repayment)
