"""A Hypothesis state machine drives domain.ledger against a simple model; the invariants hold after every step.

The model knows nothing of sequences or history: every movement is an item with an amount and
an open/closed status, each transfer a list of items, and the balance the plain sum of amounts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import ledger
from domain.commission import split_credit
from domain.credits import CancellationReason, Credit, CreditError
from domain.invariants import StoreBooks, verify
from domain.ledger import (
    BalanceUpdate,
    BalanceUpdateStatus as S,
    BalanceUpdateType as T,
    BankTransfer,
    LedgerError,
    TransferStatus as TS,
)
from domain.money import Money
from tests.fakes import StoreHead

START = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
MOVES = {  # DESIGN.md, written out again
    TS.WAITING_CONFIRMATION: {TS.SENDING, TS.CANCELLED}, TS.SENDING: {TS.IN_TRANSIT, TS.CANCELLED},
    TS.IN_TRANSIT: {TS.APPLIED, TS.CANCELLED, TS.REJECTED}, TS.APPLIED: {TS.REJECTED},
    TS.CANCELLED: set(), TS.REJECTED: set(),
}


@dataclass
class Model:
    """What the ledger should say, kept the simplest way."""

    amounts: list[int] = field(default_factory=list)          # one per BU, in order
    statuses: list[str] = field(default_factory=list)         # "pending" | "in_transit" | "applied", per BU
    transfer_items: dict[int, list[int]] = field(default_factory=dict)   # transfer id -> BU indexes
    transfer_status: dict[int, TS] = field(default_factory=dict)
    transfer_moves: dict[int, int] = field(default_factory=dict)        # history rows expected
    contribution_item: dict[int, int] = field(default_factory=dict)     # credit id -> BU index
    credit_state: dict[int, str] = field(default_factory=dict)          # signed | delivered | cancelled_*
    disbursed: set[int] = field(default_factory=set)

    @property
    def balance(self) -> int:
        return sum(self.amounts)

    def pending_total(self) -> int:
        return sum(a for a, s in zip(self.amounts, self.statuses) if s == "pending")

    def add(self, amount: int, status: str) -> int:
        self.amounts.append(amount)
        self.statuses.append(status)
        return len(self.amounts) - 1

    def set_items(self, transfer_id: int, status: str) -> None:
        for i in self.transfer_items[transfer_id]:
            self.statuses[i] = status

    def contributed_credits(self, transfer_id: int) -> set[int]:
        items = set(self.transfer_items[transfer_id])
        return {c for c, i in self.contribution_item.items() if i in items}


amounts = st.integers(min_value=1, max_value=5_000_000)
rates = st.sampled_from(["0", "0.035", "0.05", "0.1", "0.333"]).map(Decimal)
adjustments = st.integers(min_value=-300_000, max_value=300_000).filter(bool)
minimums = st.sampled_from([0, 1, 10_000, 100_000, 1_000_000])
automation_switch = st.sampled_from([True, True, True, False])
confirmation_switch = st.sampled_from([False, True])


class LedgerMachine(RuleBasedStateMachine):
    """One store's ledger under random deliveries, cancellations, adjustments, triggers and bank outcomes."""

    def __init__(self) -> None:
        super().__init__()
        self.store = StoreHead()
        self.updates: list[BalanceUpdate] = []
        self.transfers: dict[int, BankTransfer] = {}
        self.credits: dict[int, Credit] = {}
        self.contribution_of: dict[int, BalanceUpdate] = {}
        self.disbursement_of: dict[int, BalanceUpdate] = {}
        self.model = Model()
        self.now = START

    # --- helpers ------------------------------------------------------------------------------------------------
    def tick(self) -> datetime:
        self.now += timedelta(minutes=7)
        return self.now

    def record(self, bu: BalanceUpdate, model_status: str) -> BalanceUpdate:
        bu.id = len(self.updates) + 1  # as the database would
        self.updates.append(bu)
        assert self.model.add(bu.amount, model_status) == bu.id - 1
        return bu

    def transfers_in(self, *statuses: TS) -> list[BankTransfer]:
        return [t for t in self.transfers.values() if t.status in statuses]

    def credits_where(self, *states: str) -> list[Credit]:
        return [c for c in self.credits.values() if self.model.credit_state[c.id] in states]

    def move(self, transfer: BankTransfer) -> None:
        self.model.transfer_moves[transfer.id] += 1

    def unchanged(self) -> tuple:
        return (self.store.balance, self.store.last_sequence, len(self.updates),
                [(bu.status, len(bu.history)) for bu in self.updates],
                [(t.status, len(t.history)) for t in self.transfers.values()],
                [(c.status, c.cancellation_reason, c.cancelled_at) for c in self.credits.values()])

    # --- credits ------------------------------------------------------------------------------------------------
    def _originate(self, amount: int, rate: Decimal) -> Credit:
        split = split_credit(Money(amount), rate, Decimal("0.16"))
        credit_id = len(self.credits) + 1
        credit = Credit(
            merchant_id=1, store_id=self.store.id, amount=amount, currency="MXN", number_of_payments=6,
            payment_option_id=1, commission_rate=rate, tax_rate=Decimal("0.16"), commission=split.commission.minor,
            tax=split.tax.minor, contribution=split.contribution.minor, signed_at=self.now,
            external_id=f"ext-{credit_id}", id=credit_id)
        self.credits[credit_id] = credit
        self.model.credit_state[credit_id] = "signed"
        return credit

    def _deliver(self, credit: Credit) -> None:
        at = self.tick()
        credit.deliver(at)
        bu = self.record(ledger.contribute(self.store, credit.id, credit.contribution, at), "pending")
        assert (bu.type, bu.status, bu.amount, bu.credit_id) == (T.CONTRIBUTION, S.PENDING, credit.contribution, credit.id)
        self.contribution_of[credit.id] = bu
        self.model.contribution_item[credit.id] = bu.id - 1
        self.model.credit_state[credit.id] = "delivered"

    @initialize(credits=st.lists(st.tuples(amounts, rates), max_size=3))
    def some_credits_delivered(self, credits: list[tuple[int, Decimal]]) -> None:
        for amount, rate in credits:
            self._deliver(self._originate(amount, rate))

    @rule(amount=amounts, rate=rates)
    def originate(self, amount: int, rate: Decimal) -> None:
        """Signed but not delivered yet: no balance update."""
        self._originate(amount, rate)

    @rule(amount=amounts, rate=rates)
    def originate_and_deliver(self, amount: int, rate: Decimal) -> None:
        self._deliver(self._originate(amount, rate))

    @precondition(lambda self: self.credits_where("signed"))
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        self._deliver(data.draw(st.sampled_from(self.credits_where("signed"))))

    @precondition(lambda self: self.credits_where("signed", "delivered"))
    @rule(data=st.data(), reason=st.sampled_from(CancellationReason))
    def cancel_credit(self, data: st.DataObject, reason: CancellationReason) -> None:
        credit = data.draw(st.sampled_from(self.credits_where("signed", "delivered")))
        delivered = self.model.credit_state[credit.id] == "delivered"
        at = self.tick()
        assert credit.cancel(reason, at) is delivered
        if not delivered:
            self.model.credit_state[credit.id] = "cancelled_before_delivery"
            return
        contribution = self.contribution_of[credit.id]
        bu = self.record(ledger.cancel_contribution(self.store, contribution, at), "pending")
        assert (bu.type, bu.status, bu.amount, bu.credit_id) == (
            T.CREDIT_CANCELLATION, S.PENDING, -contribution.amount, credit.id)
        assert contribution.overwritten and contribution.overwritten_by is bu
        self.model.credit_state[credit.id] = "cancelled_after_delivery"

    # --- adjustments --------------------------------------------------------------------------------------------
    @rule(amount=adjustments)
    def adjust(self, amount: int) -> None:
        bu = self.record(ledger.adjust(self.store, amount, admin_id=5, at=self.tick(), note="treasury"), "pending")
        assert (bu.type, bu.status, bu.amount, bu.admin_creator_id) == (T.ADJUSTMENT, S.PENDING, amount, 5)

    # --- triggers -----------------------------------------------------------------------------------------------
    @rule(minimum=minimums, automation=automation_switch, requires_confirmation=confirmation_switch)
    def evaluate_trigger(self, minimum: int, automation: bool, requires_confirmation: bool) -> None:
        expected_total = self.model.pending_total()
        assert ledger.pending_total(self.updates) == expected_total
        decision = ledger.decide_transfer(expected_total, minimum, automation)
        should_pay = automation and expected_total > 0 and expected_total >= minimum
        assert decision.pay is should_pay and decision.total == expected_total
        pending = [bu for bu in self.updates if bu.status == S.PENDING]
        if not decision.pay:
            if expected_total <= 0:
                before = self.unchanged()
                with pytest.raises(LedgerError):
                    ledger.open_transfer(self.store, pending, "never", requires_confirmation, self.now)
                assert self.unchanged() == before
            return
        at = self.tick()
        transfer = ledger.open_transfer(self.store, pending, f"manual:{at:%Y%m%dT%H%M}", requires_confirmation, at)
        transfer.id = len(self.transfers) + 1
        self.transfers[transfer.id] = transfer
        assert transfer.amount == expected_total > 0
        assert transfer.status == (TS.WAITING_CONFIRMATION if requires_confirmation else TS.SENDING)
        expected_items = [i for i, status in enumerate(self.model.statuses) if status == "pending"]
        assert [bu.id - 1 for bu in transfer.balance_updates] == expected_items
        self.model.transfer_items[transfer.id] = expected_items
        self.model.transfer_status[transfer.id] = transfer.status
        self.model.transfer_moves[transfer.id] = 1
        self.model.set_items(transfer.id, "in_transit")

    # --- treasury and the send step -----------------------------------------------------------------------------
    def _advance(self, data: st.DataObject, source: TS, target: TS) -> None:
        transfer = data.draw(st.sampled_from(self.transfers_in(source)))
        transfer.move_to(target, self.tick())
        self.move(transfer)
        self.model.transfer_status[transfer.id] = target

    @precondition(lambda self: self.transfers_in(TS.WAITING_CONFIRMATION))
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self._advance(data, TS.WAITING_CONFIRMATION, TS.SENDING)

    @precondition(lambda self: self.transfers_in(TS.SENDING))
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        self._advance(data, TS.SENDING, TS.IN_TRANSIT)

    # --- bank outcomes, applied directly to transfers -----------------------------------------------------------
    @precondition(lambda self: self.transfers_in(TS.IN_TRANSIT))
    @rule(data=st.data(), outcome=st.sampled_from(["liquidated", "liquidated", "cancelled", "returned"]))
    def bank_answers_in_transit(self, data: st.DataObject, outcome: str) -> None:
        transfer = data.draw(st.sampled_from(self.transfers_in(TS.IN_TRANSIT)))
        getattr(self, f"_{outcome}")(transfer)

    @precondition(lambda self: self.transfers_in(TS.WAITING_CONFIRMATION, TS.SENDING))
    @rule(data=st.data())
    def cancelled_before_the_bank(self, data: st.DataObject) -> None:
        """Treasury rejects a waiting transfer, or the order could not be sent."""
        self._cancelled(data.draw(st.sampled_from(self.transfers_in(TS.WAITING_CONFIRMATION, TS.SENDING))))

    def _liquidated(self, transfer: BankTransfer) -> None:
        disbursement = self.record(ledger.liquidate(self.store, transfer, self.tick()), "applied")
        assert (disbursement.type, disbursement.status, disbursement.amount, disbursement.bank_transfer_id) == (
            T.DISBURSEMENT, S.APPLIED, -transfer.amount, transfer.id)
        self.disbursement_of[transfer.id] = disbursement
        self.move(transfer)
        self.model.transfer_status[transfer.id] = TS.APPLIED
        self.model.set_items(transfer.id, "applied")
        self.model.disbursed |= self.model.contributed_credits(transfer.id)

    def _cancelled(self, transfer: BankTransfer) -> None:
        ledger.cancel_transfer(transfer, self.tick(), reason="cancelled")
        self.move(transfer)
        self.model.transfer_status[transfer.id] = TS.CANCELLED
        self.model.set_items(transfer.id, "pending")

    def _returned(self, transfer: BankTransfer) -> None:
        assert ledger.return_transfer(self.store, transfer, None, self.tick(), reason="devuelta") is None
        assert not transfer.returned_after_applied
        self.move(transfer)
        self.model.transfer_status[transfer.id] = TS.REJECTED
        self.model.set_items(transfer.id, "pending")

    @precondition(lambda self: self.transfers_in(TS.APPLIED))
    @rule(data=st.data())
    def returned_after_applied(self, data: st.DataObject) -> None:
        transfer = data.draw(st.sampled_from(self.transfers_in(TS.APPLIED)))
        disbursement = self.disbursement_of[transfer.id]
        override = ledger.return_transfer(self.store, transfer, disbursement, self.tick(), reason="devuelta")
        assert override is not None
        self.record(override, "applied")
        assert (override.type, override.status, override.amount, override.bank_transfer_id) == (
            T.DISBURSEMENT_OVERRIDE, S.APPLIED, transfer.amount, transfer.id)
        assert transfer.returned_after_applied and disbursement.overwritten_by is override
        self.move(transfer)
        self.model.transfer_status[transfer.id] = TS.REJECTED
        self.model.set_items(transfer.id, "pending")
        self.model.disbursed -= self.model.contributed_credits(transfer.id)

    # --- illegal moves: refused with LedgerError (or CreditError), and nothing changes ---------------------------
    @rule(data=st.data(), kind=st.sampled_from(["transfer_move", "bank_outcome", "non_pending", "cancel_again",
                                                 "adjust_zero"]))
    def illegal_move_is_refused(self, data: st.DataObject, kind: str) -> None:
        before = self.unchanged()
        getattr(self, f"_refuse_{kind}")(data)
        assert self.unchanged() == before

    def _refuse_transfer_move(self, data: st.DataObject) -> None:
        if self.transfers:
            transfer = data.draw(st.sampled_from(list(self.transfers.values())))
            to = data.draw(st.sampled_from([s for s in TS if s not in MOVES[transfer.status]]))
            with pytest.raises(LedgerError):
                transfer.move_to(to, self.now)

    def _refuse_bank_outcome(self, data: st.DataObject) -> None:
        candidates = [t for t in self.transfers.values() if t.status != TS.IN_TRANSIT]
        if not candidates:
            return
        transfer = data.draw(st.sampled_from(candidates))
        with pytest.raises(LedgerError):
            ledger.liquidate(self.store, transfer, self.now)
        if not transfer.status.is_live:
            with pytest.raises(LedgerError):
                ledger.cancel_transfer(transfer, self.now)
        if transfer.status != TS.APPLIED:
            with pytest.raises(LedgerError):
                ledger.return_transfer(self.store, transfer, self.disbursement_of.get(transfer.id), self.now)

    def _refuse_non_pending(self, data: st.DataObject) -> None:
        taken = [bu for bu in self.updates if bu.status != S.PENDING]
        if taken:
            pending = [bu for bu in self.updates if bu.status == S.PENDING]
            with pytest.raises(LedgerError):
                ledger.open_transfer(self.store, [*pending, data.draw(st.sampled_from(taken))], "never", False, self.now)

    def _refuse_cancel_again(self, data: st.DataObject) -> None:
        cancelled = self.credits_where("cancelled_before_delivery", "cancelled_after_delivery")
        if not cancelled:
            return
        credit = data.draw(st.sampled_from(cancelled))
        with pytest.raises(CreditError):
            credit.cancel(CancellationReason.FRAUD, self.now)
        if credit.id in self.contribution_of:
            with pytest.raises(LedgerError):
                ledger.cancel_contribution(self.store, self.contribution_of[credit.id], self.now)

    def _refuse_adjust_zero(self, data: st.DataObject) -> None:
        with pytest.raises(LedgerError):
            ledger.adjust(self.store, 0, admin_id=5, at=self.now)

    # --- after every step ---------------------------------------------------------------------------------------
    def books(self) -> StoreBooks:
        return StoreBooks(store_id=self.store.id, balance=self.store.balance, updates=self.updates,
                          transfers=list(self.transfers.values()), credits=list(self.credits.values()))

    @invariant()
    def invariants_hold(self) -> None:
        assert verify(self.books()) == []

    @invariant()
    def balance_is_the_sum_of_movements(self) -> None:
        assert self.store.balance == self.model.balance
        assert self.store.last_sequence == len(self.updates)
        assert ledger.pending_total(self.updates) == self.model.pending_total()

    @invariant()
    def statuses_match_the_model(self) -> None:
        assert [bu.status.value for bu in self.updates] == self.model.statuses
        for tid, transfer in self.transfers.items():
            assert transfer.status == self.model.transfer_status[tid]
            assert [bu.id - 1 for bu in transfer.balance_updates] == self.model.transfer_items[tid]
            assert transfer.amount == sum(self.model.amounts[i] for i in self.model.transfer_items[tid]) > 0
            assert len(transfer.history) == self.model.transfer_moves[tid]
            assert transfer.history[-1].status == transfer.status
            chain = [h.previous_status for h in transfer.history[1:]]
            assert chain == [h.status for h in transfer.history[:-1]]
        for bu in self.updates:
            assert bu.history[-1].status == bu.status

    @invariant()
    def credit_level_facts(self) -> None:
        kinds = {(bu.credit_id, bu.type) for bu in self.updates if bu.credit_id is not None}
        per_credit = [(bu.credit_id, bu.type) for bu in self.updates if bu.credit_id is not None]
        assert len(per_credit) == len(kinds)  # never two BUs of one type for one credit
        for credit_id, state in self.model.credit_state.items():
            delivered = state in ("delivered", "cancelled_after_delivery")
            assert ((credit_id, T.CONTRIBUTION) in kinds) is delivered
            assert ((credit_id, T.CREDIT_CANCELLATION) in kinds) is (state == "cancelled_after_delivery")

    @invariant()
    def disbursed_credits_are_those_liquidated_and_not_returned(self) -> None:
        for tid, transfer in self.transfers.items():
            assert set(ledger.credits_of(transfer)) == self.model.contributed_credits(tid)
        by_ledger = {c for t in self.transfers.values() if t.status == TS.APPLIED for c in ledger.credits_of(t)}
        assert by_ledger == self.model.disbursed
        assert by_ledger == {c for c, bu in self.contribution_of.items() if bu.status == S.APPLIED}

    @invariant()
    def one_disbursement_per_liquidation(self) -> None:
        for tid, transfer in self.transfers.items():
            kinds = [bu.type for bu in self.updates if bu.bank_transfer_id == tid]
            liquidated = transfer.status == TS.APPLIED or transfer.returned_after_applied
            assert kinds.count(T.DISBURSEMENT) == (1 if liquidated else 0)
            assert kinds.count(T.DISBURSEMENT_OVERRIDE) == (1 if transfer.returned_after_applied else 0)


LedgerMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TestLedger = LedgerMachine.TestCase
