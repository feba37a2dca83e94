"""A store's trigger for one period: does its pending balance become a transfer now, and if not, why.

Every evaluation ends with an outcome and a reason, so none is ever "lost": a transfer was
opened, or the evaluation was skipped (nothing to pay, below the minimum, automation off, a key
that is not one of the store's periods any more, a period already superseded by a later one) or
held (the store is not validated, so nothing may be sent to it).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.ledger import decide_transfer
from domain.schedules import DisbursementMode, is_manual_key, mode_of_key


class EvaluationOutcome(str, enum.Enum):
    """How a trigger evaluation of a store's period ended."""

    TRANSFER = "transfer"    # a transfer was opened under the period's key
    SKIPPED = "skipped"      # nothing to do this period; the reason says why
    HELD = "held"            # money is owed but may not be sent: the store is not validated
    REQUESTED = "requested"  # treasury asked for a transfer; the ledger worker has not decided yet


NOT_VALIDATED = "held: store not validated"


@dataclass(frozen=True)
class TriggerState:
    """What deciding a period needs to know of the store, read under its lock."""

    key: str
    mode: DisbursementMode
    validated: bool
    automation: bool
    minimum: int
    pending_total: int
    superseded_by: str | None = None  # a later period of the store already evaluated


@dataclass(eq=False)
class TriggerEvaluation:
    """The record of one evaluation of a store's period: its outcome, why, and the transfer it opened."""

    store_id: int
    period_key: str
    evaluated_at: datetime
    outcome: EvaluationOutcome
    reason: str
    pending_total: int = 0
    due_at: datetime | None = None
    bank_transfer_id: int | None = None
    requested_by_id: int | None = None  # the person who asked for a transfer now (treasury's request)
    id: int | None = None

    def record(self, evaluation: Evaluation, pending_total: int, transfer_id: int | None, at: datetime) -> None:
        """What was decided, replacing a request's placeholder."""
        self.outcome, self.reason = evaluation.outcome, evaluation.reason[:255]
        self.pending_total, self.bank_transfer_id, self.evaluated_at = pending_total, transfer_id, at


@dataclass(frozen=True)
class Evaluation:
    """A decision: its outcome and the reason, which every outcome has."""

    outcome: EvaluationOutcome
    reason: str

    @property
    def pays(self) -> bool:
        """True when the decision is to open a transfer."""
        return self.outcome == EvaluationOutcome.TRANSFER


def _skip(reason: str) -> Evaluation:
    return Evaluation(EvaluationOutcome.SKIPPED, reason)


def evaluate(state: TriggerState) -> Evaluation:
    """The store's current mode, schedule and validation are checked before any amount: a period
    key queued long ago (a retry, a sweep) acts only if it is still one of the store's periods."""
    manual = is_manual_key(state.key)
    if not manual:
        key_mode = mode_of_key(state.key)
        if key_mode != state.mode:
            return _skip(f"the store is {state.mode.value} now: {state.key} is not one of its periods")
        if state.superseded_by is not None:
            return _skip(f"superseded: the later period {state.superseded_by} was already evaluated")
    if not state.validated:
        return Evaluation(EvaluationOutcome.HELD, NOT_VALIDATED)
    decision = decide_transfer(state.pending_total, state.minimum, state.automation or manual)
    if not decision.pay:
        return _skip(decision.reason)
    return Evaluation(EvaluationOutcome.TRANSFER, decision.reason)
