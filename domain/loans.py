"""A loan's status machine (seed 004, "Loans – Credits"): a credit, once delivered, is the customer's loan.

LOAN_MOVES says, for each event, the statuses it may start from and the status it leads to; ``dry_run`` says
what an event would do without doing it; ``Loan.apply`` does it and records one status change and one event,
plain values the persistence layer writes in the transaction that makes the move.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.credits import CancellationReason, CreditStatus
from domain.errors import DomainError

DETAIL_LENGTH = 255  # a status change's detail, a request's or a payment's rejection
LoanStatus = CreditStatus  # one loan, not two: a loan's status is its credit's
L = CreditStatus


class LoanError(DomainError, ValueError):
    """A loan move the rules forbid."""


class LoanEvent(str, enum.Enum):
    """What may happen to a loan."""

    DELIVER = "deliver"                  # the purchase reached the customer: the signed credit becomes a loan
    FREEZE = "freeze"                    # deadlines stop running; no new interest
    UNFREEZE = "unfreeze"
    OPEN_DISPUTE = "open_dispute"        # interest goes on as inactive; automatic payments stop
    RESOLVE_DISPUTE = "resolve_dispute"  # the inactive interest becomes active
    CANCEL = "cancel"                    # with one of the five reasons; voids what is not yet due
    SETTLE = "settle"                    # every installment paid: automatic, never asked for
    REOPEN = "reopen"                    # a reversed payment leaves a paid loan owing again: automatic


@dataclass(frozen=True)
class Move:
    """One row of the table: the statuses an event may start from and where it leads."""

    from_statuses: frozenset[CreditStatus]
    to_status: CreditStatus


LOAN_MOVES: dict[LoanEvent, Move] = {
    LoanEvent.DELIVER: Move(frozenset({L.SIGNED}), L.ACTIVE),
    LoanEvent.FREEZE: Move(frozenset({L.ACTIVE}), L.FROZEN),
    LoanEvent.UNFREEZE: Move(frozenset({L.FROZEN}), L.ACTIVE),
    LoanEvent.OPEN_DISPUTE: Move(frozenset({L.ACTIVE, L.FROZEN}), L.IN_DISPUTE),
    LoanEvent.RESOLVE_DISPUTE: Move(frozenset({L.IN_DISPUTE}), L.ACTIVE),
    LoanEvent.CANCEL: Move(frozenset({L.SIGNED, L.ACTIVE, L.FROZEN, L.IN_DISPUTE}), L.CANCELLED),
    LoanEvent.SETTLE: Move(frozenset({L.ACTIVE, L.FROZEN, L.IN_DISPUTE}), L.PAID),
    LoanEvent.REOPEN: Move(frozenset({L.PAID}), L.ACTIVE),
}
# Events the platform makes by itself; a person cannot ask for them.
AUTOMATIC_EVENTS = frozenset({LoanEvent.DELIVER, LoanEvent.SETTLE, LoanEvent.REOPEN})


@dataclass(frozen=True)
class Outcome:
    """What an event would do from a status: the status it leads to, or why it is refused."""

    event: LoanEvent
    from_status: CreditStatus
    to_status: CreditStatus | None
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def dry_run(status: CreditStatus, event: LoanEvent, reason: CancellationReason | None = None) -> Outcome:
    """What ``event`` would do to a loan in ``status``: the status it leads to, or the refusal and why."""
    move = LOAN_MOVES[event]
    if status not in move.from_statuses:
        allowed = ", ".join(sorted(s.value for s in move.from_statuses))
        return Outcome(event, status, None, f"a loan that is {status.value} cannot {event.value} "
                                            f"(only one that is {allowed})")
    if event == LoanEvent.CANCEL and reason is None:
        return Outcome(event, status, None, "a cancellation needs one of the reasons: "
                                            + ", ".join(r.value for r in CancellationReason))
    if event != LoanEvent.CANCEL and reason is not None:
        return Outcome(event, status, None, f"only a cancellation has a reason, not {event.value}")
    return Outcome(event, status, move.to_status)


def allowed_events(status: CreditStatus) -> list[LoanEvent]:
    """The events a loan in ``status`` may meet, in the table's order."""
    return [event for event, move in LOAN_MOVES.items() if status in move.from_statuses]


@dataclass(frozen=True)
class LoanStatusChange:
    """One row of a loan's status history. ``on`` is the business day the change takes effect: an installment
    falling due that day fell due at its start, under the status before."""

    from_status: CreditStatus
    to_status: CreditStatus
    on: date
    at: datetime
    event: LoanEvent
    reason: CancellationReason | None = None
    actor: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class LoanEventRecord:
    """The event the move publishes (through the outbox): what happened to which loan."""

    loan_id: int | None
    event: LoanEvent
    from_status: CreditStatus
    to_status: CreditStatus
    on: date
    at: datetime
    reason: CancellationReason | None = None


@dataclass(eq=False)
class Loan:
    """The customer's side of a credit: its status and the history that the interest and the deadlines are
    computed from."""

    credit_id: int | None
    status: CreditStatus = L.ACTIVE
    cancellation_reason: CancellationReason | None = None
    history: list[LoanStatusChange] = field(default_factory=list)
    events: list[LoanEventRecord] = field(default_factory=list)

    def apply(self, event: LoanEvent, on: date, at: datetime, reason: CancellationReason | None = None,
              actor: str | None = None, detail: str | None = None) -> LoanStatusChange:
        """Make the move; LoanError (and nothing changes) for one the table refuses or for a business day
        before the last change."""
        last_on = self.history[-1].on if self.history else None
        change, record = move(self.credit_id, self.status, event, on, at, reason, actor, detail, last_on)
        self.history.append(change)
        self.events.append(record)
        self.status = change.to_status
        if event == LoanEvent.CANCEL:
            self.cancellation_reason = reason
        return change


def move(loan_id: int | None, status: CreditStatus, event: LoanEvent, on: date, at: datetime,
         reason: CancellationReason | None = None, actor: str | None = None, detail: str | None = None,
         last_on: date | None = None) -> tuple[LoanStatusChange, LoanEventRecord]:
    """The status-history row and the event of ``event`` on a loan (or its credit) in ``status`` whose last
    change was on ``last_on``; LoanError for a move the table refuses or a day before the last change."""
    outcome = dry_run(status, event, reason)
    if outcome.to_status is None:
        raise LoanError(f"loan {loan_id}: {outcome.refusal}")
    if last_on is not None and on < last_on:
        raise LoanError(f"loan {loan_id}: a change on {on} cannot come after one on {last_on}")
    change = LoanStatusChange(status, outcome.to_status, on, at, event, reason, actor, detail)
    return change, LoanEventRecord(loan_id, event, status, outcome.to_status, on, at, reason)


def status_at_start_of(day: date, history: list[LoanStatusChange], first: CreditStatus = L.ACTIVE) -> CreditStatus:
    """The status a loan had when ``day`` began: the last change dated before it (``first`` when none)."""
    status = first
    for change in history:
        if change.on >= day:
            break
        status = change.to_status
    return status
