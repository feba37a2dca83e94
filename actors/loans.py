"""Loan actors: each opens one unit of work, calls one use case, commits."""
from __future__ import annotations

from typing import Callable

from actors.transaction import UowFactory, in_one_transaction
from adapters.db.uow import UnitOfWork
from usecases import loans
from usecases.customers import CustomerRules
from usecases.loan_status import MoveBy

Rules = Callable[[], CustomerRules]  # read per message, so that it follows the process's settings


def move_loan(uow: UowFactory, rules: Rules) -> Callable[..., None]:
    """A loan's move asked for by a step (a row of an uploaded file): made once per move key, whatever how
    often the message comes; a move the loan's status refuses dies as a dead letter for a person to see."""
    def move(u: UnitOfWork, credit_id: int, event: str, reason: str | None, move_key: str) -> None:
        loans.move_loan(u, credit_id, event, reason, rules=rules(),
                        by=MoveBy(actor="step move_loan", move_key=move_key))
    move.__name__ = "move_loan"
    return in_one_transaction(uow, move)
