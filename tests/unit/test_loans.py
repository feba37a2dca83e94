"""The loan status machine: every status against every event, the dry run, and the records a move leaves."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.credits import CancellationReason, CreditStatus as L
from domain.loans import (
    LOAN_MOVES,
    Loan,
    LoanError,
    LoanEvent as E,
    LoanStatusChange,
    allowed_events,
    dry_run,
    move,
    status_at_start_of,
)

AT = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
ON = date(2026, 12, 7)
# The table of docs/loans.md written out again: (status, event) -> the status it leads to; absent: refused.
EXPECTED = {
    (L.SIGNED, E.DELIVER): L.ACTIVE, (L.SIGNED, E.CANCEL): L.CANCELLED,
    (L.ACTIVE, E.FREEZE): L.FROZEN, (L.ACTIVE, E.OPEN_DISPUTE): L.IN_DISPUTE, (L.ACTIVE, E.CANCEL): L.CANCELLED,
    (L.ACTIVE, E.SETTLE): L.PAID,
    (L.FROZEN, E.UNFREEZE): L.ACTIVE, (L.FROZEN, E.OPEN_DISPUTE): L.IN_DISPUTE, (L.FROZEN, E.CANCEL): L.CANCELLED,
    (L.FROZEN, E.SETTLE): L.PAID,
    (L.IN_DISPUTE, E.RESOLVE_DISPUTE): L.ACTIVE, (L.IN_DISPUTE, E.CANCEL): L.CANCELLED,
    (L.IN_DISPUTE, E.SETTLE): L.PAID,
    (L.PAID, E.REOPEN): L.ACTIVE,
}


def reason_for(event: E) -> CancellationReason | None:
    return CancellationReason.FRAUD if event == E.CANCEL else None


@pytest.mark.parametrize("status", list(L))
@pytest.mark.parametrize("event", list(E))
def test_every_status_against_every_event(status: L, event: E) -> None:
    loan = Loan(credit_id=7, status=status)
    expected = EXPECTED.get((status, event))
    outcome = dry_run(status, event, reason_for(event))
    assert outcome.to_status == expected and outcome.allowed is (expected is not None)
    if expected is None:
        assert status.value in (outcome.refusal or "")
        with pytest.raises(LoanError):
            loan.apply(event, ON, AT, reason_for(event))
        assert (loan.status, loan.history, loan.events, loan.cancellation_reason) == (status, [], [], None)
        return
    change = loan.apply(event, ON, AT, reason_for(event), actor="ops@lender")
    assert loan.status == expected
    assert loan.history == [change] and (change.from_status, change.to_status, change.event) == (status, expected, event)
    assert change.actor == "ops@lender" and change.on == ON
    [record] = loan.events
    assert (record.loan_id, record.event, record.from_status, record.to_status) == (7, event, status, expected)


def test_the_table_allows_exactly_what_the_expectation_lists() -> None:
    table = {(s, e): m.to_status for e, m in LOAN_MOVES.items() for s in m.from_statuses}
    assert table == EXPECTED
    assert allowed_events(L.CANCELLED) == [] and allowed_events(L.FROZEN) == [
        E.UNFREEZE, E.OPEN_DISPUTE, E.CANCEL, E.SETTLE]


@pytest.mark.parametrize("reason", list(CancellationReason))
def test_a_cancellation_keeps_its_reason(reason: CancellationReason) -> None:
    loan = Loan(credit_id=1)
    loan.apply(E.CANCEL, ON, AT, reason)
    assert loan.cancellation_reason == reason and loan.history[0].reason == reason and loan.events[0].reason == reason


def test_a_cancellation_without_a_reason_is_refused_and_changes_nothing() -> None:
    loan = Loan(credit_id=1)
    assert "reasons" in (dry_run(L.ACTIVE, E.CANCEL).refusal or "")
    with pytest.raises(LoanError):
        loan.apply(E.CANCEL, ON, AT)
    assert loan.status == L.ACTIVE and loan.history == []


def test_only_a_cancellation_has_a_reason() -> None:
    assert dry_run(L.ACTIVE, E.FREEZE, CancellationReason.DEATH).allowed is False


def test_a_move_dated_before_the_last_is_refused() -> None:
    loan = Loan(credit_id=1)
    loan.apply(E.FREEZE, ON, AT)
    with pytest.raises(LoanError):
        loan.apply(E.UNFREEZE, date(2026, 12, 6), AT)
    assert loan.status == L.FROZEN and len(loan.history) == 1


def test_the_status_at_the_start_of_a_day_is_the_one_before_that_days_changes() -> None:
    history = [LoanStatusChange(L.ACTIVE, L.FROZEN, date(2026, 3, 1), AT, E.FREEZE),
               LoanStatusChange(L.FROZEN, L.ACTIVE, date(2026, 3, 5), AT, E.UNFREEZE)]
    assert status_at_start_of(date(2026, 3, 1), history) == L.ACTIVE
    assert status_at_start_of(date(2026, 3, 2), history) == L.FROZEN
    assert status_at_start_of(date(2026, 3, 5), history) == L.FROZEN
    assert status_at_start_of(date(2026, 3, 6), history) == L.ACTIVE


def test_a_move_for_a_credit_gives_its_history_row_and_event_without_an_entity() -> None:
    change, record = move(9, L.IN_DISPUTE, E.RESOLVE_DISPUTE, ON, AT, actor="ops", last_on=ON)
    assert (change.from_status, change.to_status, change.actor) == (L.IN_DISPUTE, L.ACTIVE, "ops")
    assert (record.loan_id, record.event, record.to_status) == (9, E.RESOLVE_DISPUTE, L.ACTIVE)
    with pytest.raises(LoanError):
        move(9, L.IN_DISPUTE, E.RESOLVE_DISPUTE, ON, AT, last_on=date(2026, 12, 8))
    with pytest.raises(LoanError):
        move(9, L.PAID, E.CANCEL, ON, AT, CancellationReason.DEATH)
