"""Bank transfer states: every (from, to) pair is allowed exactly as DESIGN.md lists, with history rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product

import pytest

from domain import ledger
from domain.ledger import (
    BalanceUpdateStatus as S,
    BalanceUpdateType as T,
    BankTransfer,
    LedgerError,
    TransferStatus as TS,
)
from tests.fakes import StoreHead

AT = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
LATER = AT + timedelta(hours=1)

# Written out from DESIGN.md, independently of domain.ledger.ALLOWED_TRANSFER_MOVES.
DESIGN_MOVES = {
    (TS.WAITING_CONFIRMATION, TS.SENDING), (TS.WAITING_CONFIRMATION, TS.CANCELLED),
    (TS.SENDING, TS.IN_TRANSIT), (TS.SENDING, TS.CANCELLED),
    (TS.IN_TRANSIT, TS.APPLIED), (TS.IN_TRANSIT, TS.CANCELLED), (TS.IN_TRANSIT, TS.REJECTED),
    (TS.APPLIED, TS.REJECTED),
}
ALL_PAIRS = list(product(TS, TS))


def bare_transfer(status: TS) -> BankTransfer:
    return BankTransfer(store_id=1, status=status, amount=100, currency="MXN", created_at=AT, trigger_key="k", id=7)


def test_there_are_six_statuses_and_three_live_ones() -> None:
    assert len(TS) == 6
    assert {s for s in TS if s.is_live} == {TS.WAITING_CONFIRMATION, TS.SENDING, TS.IN_TRANSIT}


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_every_pair(source: TS, target: TS) -> None:
    transfer = bare_transfer(source)
    allowed = (source, target) in DESIGN_MOVES
    assert ledger.can_move(source, target) is allowed
    if allowed:
        transfer.move_to(target, LATER, reason="why")
        assert transfer.status == target and transfer.updated_at == LATER and transfer.status_reason == "why"
        (row,) = transfer.history
        assert (row.previous_status, row.status, row.at, row.reason) == (source, target, LATER, "why")
    else:
        with pytest.raises(LedgerError):
            transfer.move_to(target, LATER)
        assert transfer.status == source and transfer.history == [] and transfer.updated_at is None


@pytest.mark.parametrize("final", [TS.CANCELLED, TS.REJECTED])
def test_cancelled_and_rejected_are_final(final: TS) -> None:
    for target in TS:
        with pytest.raises(LedgerError):
            bare_transfer(final).move_to(target, LATER)


# --- the ledger moves, from every status -----------------------------------------------------------------------

def transfer_in(status: TS, head: StoreHead) -> tuple[BankTransfer, ledger.BalanceUpdate | None]:
    """A real transfer of one 1000 contribution, walked to ``status`` along allowed moves."""
    bu = ledger.contribute(head, credit_id=1, contribution=1000, at=AT)
    bu.id = 1
    transfer = ledger.open_transfer(head, [bu], "daily:2026-11-23", requires_confirmation=True, at=AT)
    transfer.id = 7
    paths = {
        TS.WAITING_CONFIRMATION: [], TS.SENDING: [TS.SENDING], TS.IN_TRANSIT: [TS.SENDING, TS.IN_TRANSIT],
        TS.APPLIED: [TS.SENDING, TS.IN_TRANSIT], TS.CANCELLED: [TS.SENDING], TS.REJECTED: [TS.SENDING, TS.IN_TRANSIT],
    }
    for step in paths[status]:
        transfer.move_to(step, AT)
    disbursement = None
    if status == TS.APPLIED:
        disbursement = ledger.liquidate(head, transfer, AT)
    elif status == TS.CANCELLED:
        ledger.cancel_transfer(transfer, AT)
    elif status == TS.REJECTED:
        ledger.return_transfer(head, transfer, None, AT)
    assert transfer.status == status
    return transfer, disbursement


def snapshot(head: StoreHead, transfer: BankTransfer) -> tuple:
    return (head.balance, head.last_sequence, transfer.status, len(transfer.history),
            [(bu.status, len(bu.history)) for bu in transfer.balance_updates])


@pytest.mark.parametrize("status", list(TS))
def test_liquidate_only_from_in_transit(status: TS) -> None:
    head = StoreHead()
    transfer, _ = transfer_in(status, head)
    if status == TS.IN_TRANSIT:
        disbursement = ledger.liquidate(head, transfer, LATER)
        assert (disbursement.type, disbursement.status, disbursement.amount) == (T.DISBURSEMENT, S.APPLIED, -1000)
        assert disbursement.bank_transfer_id == 7 and head.balance == 0
        assert [bu.status for bu in transfer.balance_updates] == [S.APPLIED]
        return
    before = snapshot(head, transfer)
    with pytest.raises(LedgerError):
        ledger.liquidate(head, transfer, LATER)
    assert snapshot(head, transfer) == before


@pytest.mark.parametrize("status", list(TS))
def test_cancel_only_while_live(status: TS) -> None:
    head = StoreHead()
    transfer, _ = transfer_in(status, head)
    if status.is_live:
        ledger.cancel_transfer(transfer, LATER, reason="treasury refused")
        assert transfer.status == TS.CANCELLED and transfer.status_reason == "treasury refused"
        assert [bu.status for bu in transfer.balance_updates] == [S.PENDING] and head.balance == 1000
        return
    before = snapshot(head, transfer)
    with pytest.raises(LedgerError):
        ledger.cancel_transfer(transfer, LATER)
    assert snapshot(head, transfer) == before


@pytest.mark.parametrize("status", list(TS))
def test_return_only_from_in_transit_or_applied(status: TS) -> None:
    head = StoreHead()
    transfer, disbursement = transfer_in(status, head)
    if status in (TS.IN_TRANSIT, TS.APPLIED):
        override = ledger.return_transfer(head, transfer, disbursement, LATER, reason="account closed")
        assert transfer.status == TS.REJECTED and head.balance == 1000
        assert [bu.status for bu in transfer.balance_updates] == [S.PENDING]
        assert transfer.returned_after_applied is (status == TS.APPLIED)
        if status == TS.APPLIED:
            assert override is not None and disbursement is not None
            assert (override.type, override.status, override.amount) == (T.DISBURSEMENT_OVERRIDE, S.APPLIED, 1000)
            assert disbursement.overwritten and disbursement.overwritten_by is override
        else:
            assert override is None
        return
    before = snapshot(head, transfer)
    with pytest.raises(LedgerError):
        ledger.return_transfer(head, transfer, disbursement, LATER)
    assert snapshot(head, transfer) == before


def test_history_rows_for_a_whole_life() -> None:
    head = StoreHead()
    bu = ledger.contribute(head, credit_id=1, contribution=1000, at=AT)
    transfer = ledger.open_transfer(head, [bu], "weekly:2026-W48", requires_confirmation=True, at=AT)
    transfer.id = 7
    times = [AT + timedelta(minutes=m) for m in range(1, 5)]
    transfer.move_to(TS.SENDING, times[0])
    transfer.move_to(TS.IN_TRANSIT, times[1])
    disbursement = ledger.liquidate(head, transfer, times[2])
    ledger.return_transfer(head, transfer, disbursement, times[3], reason="returned by the bank")
    assert [(h.previous_status, h.status, h.at) for h in transfer.history] == [
        (None, TS.WAITING_CONFIRMATION, AT), (TS.WAITING_CONFIRMATION, TS.SENDING, times[0]),
        (TS.SENDING, TS.IN_TRANSIT, times[1]), (TS.IN_TRANSIT, TS.APPLIED, times[2]),
        (TS.APPLIED, TS.REJECTED, times[3]),
    ]
    assert transfer.history[-1].reason == "returned by the bank"
    assert [(h.previous_status, h.status, h.at) for h in bu.history] == [
        (None, S.PENDING, AT), (S.PENDING, S.IN_TRANSIT, AT), (S.IN_TRANSIT, S.APPLIED, times[2]),
        (S.APPLIED, S.PENDING, times[3]),
    ]
    assert [(h.previous_status, h.status) for h in disbursement.history] == [(None, S.APPLIED)]


@pytest.mark.parametrize(("requires_confirmation", "first"), [(True, TS.WAITING_CONFIRMATION), (False, TS.SENDING)])
def test_open_transfer_starts_waiting_or_sending(requires_confirmation: bool, first: TS) -> None:
    head = StoreHead()
    earlier = ledger.contribute(head, credit_id=3, contribution=100, at=AT)
    bus = [ledger.contribute(head, credit_id=i, contribution=500, at=AT) for i in (1, 2)]
    bus.append(ledger.adjust(head, -200, admin_id=9, at=AT, note="fee"))
    bus.append(ledger.cancel_contribution(head, earlier, AT))
    transfer = ledger.open_transfer(head, bus, "daily:2026-11-23", requires_confirmation, AT)
    assert (transfer.status, transfer.amount, transfer.trigger_key) == (first, 700, "daily:2026-11-23")
    assert transfer.requires_confirmation is requires_confirmation
    assert [(h.previous_status, h.status) for h in transfer.history] == [(None, first)]
    assert all(bu.status == S.IN_TRANSIT for bu in bus) and transfer.balance_updates == bus
    assert ledger.credits_of(transfer) == [1, 2]  # a cancellation's credit is not paid by this transfer
    assert earlier.status == S.PENDING


def test_open_transfer_refuses_non_pending_updates_and_changes_nothing() -> None:
    head = StoreHead()
    first = ledger.contribute(head, credit_id=1, contribution=500, at=AT)
    second = ledger.contribute(head, credit_id=2, contribution=500, at=AT)
    ledger.open_transfer(head, [first], "k1", False, AT)
    with pytest.raises(LedgerError):
        ledger.open_transfer(head, [first, second], "k2", False, AT)
    assert first.status == S.IN_TRANSIT and second.status == S.PENDING and len(second.history) == 1


@pytest.mark.parametrize("amounts", [[], [0], [-100], [500, -500], [300, -400]])
def test_no_transfer_of_zero_or_negative_amount(amounts: list[int]) -> None:
    head = StoreHead()
    bus = [ledger.append(head, T.ADJUSTMENT, a, S.PENDING, AT) for a in amounts]
    with pytest.raises(LedgerError):
        ledger.open_transfer(head, bus, "k", False, AT)
    assert all(bu.status == S.PENDING for bu in bus)


def test_return_after_applied_without_disbursement_changes_nothing() -> None:
    head = StoreHead()
    transfer, _ = transfer_in(TS.APPLIED, head)
    with pytest.raises(LedgerError):
        ledger.return_transfer(head, transfer, None, LATER)
    assert transfer.status == TS.APPLIED
    assert [bu.status for bu in transfer.balance_updates] == [S.APPLIED]


def test_a_steps_dedupe_key_is_its_actor_and_business_key():
    from domain.messages import Step

    step = Step("evaluate_trigger", "ledger", key_args=2)
    assert step.dedupe_key([7, "daily:2026-11-24", "2026-11-24T06:00:00+00:00"]) == "evaluate_trigger:7:daily:2026-11-24"
    assert step.dedupe_key([7, "daily:2026-11-24", None], "sweep-20261124T10") == \
        "evaluate_trigger:7:daily:2026-11-24@sweep-20261124T10"
