"""Actors: one step each, bound to a broker by workers.bootstrap.declare_actors."""
from __future__ import annotations

from typing import Callable

from actors import bank, ledger
from adapters.db.outbox import Step
from usecases import steps

ACTORS: list[tuple[Callable[..., None], Step]] = [
    (ledger.contribute, steps.CONTRIBUTE),
    (ledger.cancel_credit, steps.CANCEL_CREDIT),
    (ledger.evaluate_trigger, steps.EVALUATE_TRIGGER),
    (ledger.create_transfer, steps.CREATE_TRANSFER),
    (ledger.update_monthly_commissions, steps.UPDATE_MONTHLY_COMMISSIONS),
    (bank.pay_transfer, steps.PAY_TRANSFER),
    (bank.send_payment_order, steps.SEND_PAYMENT_ORDER),
    (bank.sync_payment_order, steps.SYNC_PAYMENT_ORDER),
    (bank.process_bank_event, steps.PROCESS_BANK_EVENT),
    (bank.reconcile_day, steps.RECONCILE_DAY),
]
