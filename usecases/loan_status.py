"""A loan's status move, written in the transaction that makes it: the history row (domain.loans.move), the
credit's status and its business day, the ``loan_status_changed`` event, the loan brought up to date as of
that day, and the customer's automatic moves run again (a cancellation for fraud blocks the customer).

Delivery and cancellation (usecases.credits), a person's moves (usecases.loans) and the automatic settle and
reopen of the repayments all go through ``change`` and ``record``."""
from __future__ import annotations

from dataclasses import dataclass

from domain.credits import CancellationReason, Credit, CreditStatus
from domain.loan_balances import LoanPosition
from domain.loans import (
    AUTOMATIC_EVENTS, LoanError, LoanEvent, LoanEventRecord, LoanStatusChange, allowed_events, move,
)
from usecases import customers
from usecases.customers import CustomerRules
from usecases.errors import Conflict
from usecases.loan_days import lender_today
from usecases.loan_positions import bring_up_to_date
from usecases.ports import UnitOfWork


@dataclass(frozen=True)
class MoveBy:
    """Who made a move and how it is told apart: the actor (a person's key, a step), a detail in words, and
    the key that makes a step's move happen once (loan_status_history.move_key)."""

    actor: str | None = None
    detail: str | None = None
    move_key: str | None = None


def person_events(status: CreditStatus) -> list[str]:
    """The events a person may ask for on a loan in ``status`` (the automatic ones are the platform's)."""
    return [event.value for event in allowed_events(status) if event not in AUTOMATIC_EVENTS]


class LoanMoveRefused(Conflict):
    """The loan's status refuses the event (409): the body also names the status and the events it allows."""

    def __init__(self, message: str, status: CreditStatus):
        super().__init__(message)
        self.extra = {"status": status.value, "allowed_events": person_events(status)}


def change(uow: UnitOfWork, credit: Credit, event: LoanEvent, reason: CancellationReason | None = None,
           by: MoveBy = MoveBy()) -> tuple[LoanStatusChange, LoanEventRecord]:
    """The history row and the event ``event`` makes of the loan today, checked against the transition table;
    LoanMoveRefused otherwise. Nothing is written."""
    try:
        return move(credit.id, credit.status, event, lender_today(uow), uow.clock(), reason, by.actor, by.detail,
                    credit.status_on)
    except LoanError as e:
        raise LoanMoveRefused(str(e), credit.status) from None


def record(uow: UnitOfWork, credit: Credit, made: tuple[LoanStatusChange, LoanEventRecord], rules: CustomerRules,
           by: MoveBy = MoveBy()) -> LoanPosition:
    """Write a move of the (locked) loan: its history row, status and day, its event; then bring the loan up
    to date and run the customer's automatic moves."""
    assert credit.id is not None and credit.customer_id is not None
    row, event = made
    uow.loans.add_change(credit.id, row, by.move_key)
    credit.status, credit.status_on = row.to_status, row.on
    uow.log("loan_status_changed", f"loan {credit.id} {row.from_status.value} -> {row.to_status.value} "
            f"({row.event.value})", credit_id=credit.id, store_id=credit.store_id,
            details={"loan_id": credit.id, "customer_id": credit.customer_id, "event": event.event.value,
                     "from_status": event.from_status.value, "to_status": event.to_status.value,
                     "on": event.on.isoformat(), "reason": event.reason.value if event.reason else None,
                     "actor": row.actor})
    now = bring_up_to_date(uow, credit, row.on)
    customers.apply_automatic_moves(uow, credit.customer_id, rules, fraud=row.reason == CancellationReason.FRAUD)
    return now
