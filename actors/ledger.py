"""Ledger actors: each opens one unit of work, calls one use case, commits."""
from __future__ import annotations

from datetime import datetime

from actors.runtime import container
from usecases import commissions, ledger


def contribute(credit_id: int) -> None:
    with container().uow() as uow:
        ledger.contribute(uow, credit_id)
        uow.commit()


def cancel_credit(credit_id: int) -> None:
    with container().uow() as uow:
        ledger.cancel_credit(uow, credit_id)
        uow.commit()


def evaluate_trigger(store_id: int, period_key: str, due_at: str | None = None) -> None:
    with container().uow() as uow:
        ledger.evaluate_trigger(uow, store_id, period_key, datetime.fromisoformat(due_at) if due_at else None)
        uow.commit()


def create_transfer(store_id: int, trigger_key: str) -> None:
    with container().uow() as uow:
        ledger.create_transfer(uow, store_id, trigger_key)
        uow.commit()


def update_monthly_commissions(merchant_id: int, month: str) -> None:
    with container().uow() as uow:
        commissions.update_monthly_commissions(uow, merchant_id, month)
        uow.commit()
