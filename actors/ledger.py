"""Ledger actors: each opens one unit of work, calls one use case, commits."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from actors.transaction import Config, UowFactory, in_one_transaction
from adapters.db.uow import UnitOfWork
from usecases import commissions, ledger


def contribute(uow: UowFactory) -> Callable[..., None]:
    return in_one_transaction(uow, ledger.contribute)


def cancel_credit(uow: UowFactory) -> Callable[..., None]:
    return in_one_transaction(uow, ledger.cancel_credit)


def evaluate_trigger(uow: UowFactory, config: Config) -> Callable[..., None]:
    def evaluate(u: UnitOfWork, store_id: int, period_key: str, due_at: str | None = None) -> None:
        ledger.evaluate_trigger(u, store_id, period_key, config(), datetime.fromisoformat(due_at) if due_at else None)
    evaluate.__name__ = "evaluate_trigger"
    return in_one_transaction(uow, evaluate)


def create_transfer(uow: UowFactory, config: Config) -> Callable[..., None]:
    return in_one_transaction(uow, lambda u, store_id, key: ledger.create_transfer(u, store_id, key, config()))


def update_monthly_commissions(uow: UowFactory) -> Callable[..., None]:
    return in_one_transaction(uow, commissions.update_monthly_commissions)
