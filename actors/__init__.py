"""Actors: one step each, bound to a broker by workers.bootstrap.declare_actors."""
from __future__ import annotations

from typing import Callable

from actors import ledger
from adapters.db.outbox import Step
from usecases import steps

ACTORS: list[tuple[Callable[..., None], Step]] = [
    (ledger.contribute, steps.CONTRIBUTE),
    (ledger.cancel_credit, steps.CANCEL_CREDIT),
    (ledger.evaluate_trigger, steps.EVALUATE_TRIGGER),
    (ledger.create_transfer, steps.CREATE_TRANSFER),
    (ledger.update_monthly_commissions, steps.UPDATE_MONTHLY_COMMISSIONS),
]
