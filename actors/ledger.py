"""Ledger actors: each opens one unit of work, calls one use case, commits."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from adapters.db.uow import UnitOfWork
from usecases import commissions, ledger

UowFactory = Callable[[], UnitOfWork]


def contribute(uow: UowFactory) -> Callable[[int], None]:
    def contribute(credit_id: int) -> None:
        with uow() as u:
            ledger.contribute(u, credit_id)
            u.commit()
    return contribute


def cancel_credit(uow: UowFactory) -> Callable[[int], None]:
    def cancel_credit(credit_id: int) -> None:
        with uow() as u:
            ledger.cancel_credit(u, credit_id)
            u.commit()
    return cancel_credit


def evaluate_trigger(uow: UowFactory) -> Callable[..., None]:
    def evaluate_trigger(store_id: int, period_key: str, due_at: str | None = None) -> None:
        with uow() as u:
            ledger.evaluate_trigger(u, store_id, period_key, datetime.fromisoformat(due_at) if due_at else None)
            u.commit()
    return evaluate_trigger


def create_transfer(uow: UowFactory) -> Callable[[int, str], None]:
    def create_transfer(store_id: int, trigger_key: str) -> None:
        with uow() as u:
            ledger.create_transfer(u, store_id, trigger_key)
            u.commit()
    return create_transfer


def update_monthly_commissions(uow: UowFactory) -> Callable[[int, str], None]:
    def update_monthly_commissions(merchant_id: int, month: str) -> None:
        with uow() as u:
            commissions.update_monthly_commissions(u, merchant_id, month)
            u.commit()
    return update_monthly_commissions
