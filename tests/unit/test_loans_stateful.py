"""Hypothesis state machines drive a loan and its repayments against a simple model, day by day; the loan
book's identities hold after every step.

The model knows nothing of status histories, periods or as-of computations: it lives one day at a time. At
the start of each day a frozen loan pushes every deadline not reached by one day, then the installments due
that day fall due under the status of the moment; events change its status and its installments in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.credits import CancellationReason, CreditStatus as L
from domain.loan_balances import InterestState, LoanPosition, LoanRecord, Period, position
from domain.loan_book import LoanBook, verify
from domain.loan_schedules import LoanTerms, PaymentFrequency, build_schedule
from domain.loans import Loan, LoanError, LoanEvent as E
from domain.repayments import (
    PaymentChannel as C,
    Repayment,
    RepaymentRefused,
    ReversalReason,
    settlement_event,
)

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
MOVES = {  # docs/loans.md, written out again (deliver, settle and reopen are the platform's own)
    E.FREEZE: ({L.ACTIVE}, L.FROZEN), E.UNFREEZE: ({L.FROZEN}, L.ACTIVE),
    E.OPEN_DISPUTE: ({L.ACTIVE, L.FROZEN}, L.IN_DISPUTE), E.RESOLVE_DISPUTE: ({L.IN_DISPUTE}, L.ACTIVE),
    E.CANCEL: ({L.ACTIVE, L.FROZEN, L.IN_DISPUTE}, L.CANCELLED),
}
TAKES = {L.ACTIVE: {C.AUTOMATIC, C.VOLUNTARY}, L.FROZEN: {C.VOLUNTARY}, L.IN_DISPUTE: {C.VOLUNTARY}}


@dataclass
class Item:
    """One installment as the model keeps it."""

    number: int
    due: date
    principal: int
    interest: int
    principal_paid: int = 0
    interest_paid: int = 0
    state: str = "not_due"  # not_due | active | inactive | waived | void
    void: bool = False

    def active_left(self) -> int:
        return self.interest - self.interest_paid if self.state == "active" else 0

    def principal_left(self) -> int:
        return 0 if self.void else self.principal - self.principal_paid


@dataclass
class Model:
    today: date
    items: list[Item]
    status: L = L.ACTIVE
    product_active: bool = True
    paid_by: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)  # payment -> (item, interest, principal)
    cancelled_on: date | None = None

    def start_day(self) -> None:
        self.today += timedelta(days=1)
        if self.status == L.FROZEN:
            for item in self.items:
                if item.state == "not_due":
                    item.due += timedelta(days=1)
        repaid = sum(i.principal_paid for i in self.items) >= sum(i.principal for i in self.items)
        for item in self.items:
            if item.state != "not_due" or item.due != self.today:
                continue
            own = item.principal > 0 and item.principal_paid >= item.principal
            if not self.product_active or own or repaid:
                item.state = "waived"
            else:
                item.state = "inactive" if self.status == L.IN_DISPUTE else "active"

    def payoff(self) -> int:
        return sum(i.principal_left() + i.active_left() for i in self.items)

    def owes_nothing(self) -> bool:
        return self.payoff() == 0 and not any(i.state == "inactive" and i.interest > i.interest_paid
                                              for i in self.items)

    def leave_dispute(self, to: str) -> None:
        for item in self.items:
            if item.state == "inactive":
                item.state = to

    def move(self, event: E) -> None:
        was = self.status
        self.status = MOVES[event][1]
        if was == L.IN_DISPUTE:
            self.leave_dispute("void" if event == E.CANCEL else "active")
        if event == E.CANCEL:
            self.cancelled_on = self.today
            for item in self.items:
                if item.state == "not_due":
                    item.state, item.void = "void", True

    def pay(self, payment_id: int, amount: int) -> None:
        parts, left = [], amount
        for item in self.items:
            if item.state != "not_due":
                interest = min(left, item.active_left())
                principal = min(left - interest, item.principal_left())
                left -= interest + principal
                parts.append((item.number, interest, principal))
        for item in reversed(self.items):
            if item.state == "not_due":
                principal = min(left, item.principal_left())
                left -= principal
                parts.append((item.number, 0, principal))
        assert left == 0
        self.paid_by[payment_id] = parts
        self.apply_parts(parts, +1)
        if self.owes_nothing() and self.status in (L.ACTIVE, L.FROZEN, L.IN_DISPUTE):
            if self.status == L.IN_DISPUTE:
                self.leave_dispute("active")
            self.status = L.PAID

    def reverse(self, payment_id: int) -> None:
        self.apply_parts(self.paid_by.pop(payment_id), -1)
        if self.status == L.PAID and not self.owes_nothing():
            self.status = L.ACTIVE

    def apply_parts(self, parts: list[tuple[int, int, int]], sign: int) -> None:
        for number, interest, principal in parts:
            self.items[number - 1].interest_paid += sign * interest
            self.items[number - 1].principal_paid += sign * principal

    def days_past_due(self) -> int:
        day = self.cancelled_on or self.today
        late = [i.due for i in self.items if i.state != "not_due" and (i.principal_left() or i.active_left())]
        return (day - min(late)).days if late else 0


terms = st.builds(
    LoanTerms,
    principal=st.one_of(st.integers(min_value=1, max_value=1_000), st.integers(min_value=1, max_value=5_000_000)),
    number_of_payments=st.integers(min_value=1, max_value=8),
    signed_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    annual_rate=st.sampled_from(["0", "0.18", "0.36", "0.6", "1"]).map(Decimal),
    frequency=st.sampled_from(PaymentFrequency),
    grace_months=st.integers(min_value=0, max_value=1),
)


class RepaymentMachine(RuleBasedStateMachine):
    """An active loan under random payments (automatic or voluntary, of any amount), reversals, rejected
    pre-payments and the days passing."""

    def __init__(self) -> None:
        super().__init__()
        self.loan = Loan(credit_id=1)
        self.repayments: list[Repayment] = []
        self.product_periods: list[Period] = []

    @initialize(loan_terms=terms)
    def sign(self, loan_terms: LoanTerms) -> None:
        self.principal = loan_terms.principal
        self.schedule = build_schedule(loan_terms)
        self.model = Model(loan_terms.signed_on, [Item(i.number, i.due_on, i.principal, i.interest)
                                                  for i in self.schedule])

    # --- helpers ------------------------------------------------------------------------------------------------
    def record(self) -> LoanRecord:
        applied = [a for r in self.repayments if (a := r.applied())]
        return LoanRecord(self.schedule, self.loan.history, applied, self.product_periods)

    def now(self) -> LoanPosition:
        return position(self.record(), self.model.today)

    def settle_if_due(self) -> None:
        event = settlement_event(self.loan.status, self.now())
        if event:
            self.loan.apply(event, self.model.today, AT)

    def accepted(self) -> list[Repayment]:
        return [r for r in self.repayments if r.id in self.model.paid_by]

    # --- rules --------------------------------------------------------------------------------------------------
    @rule(days=st.integers(min_value=1, max_value=40))
    def days_pass(self, days: int) -> None:
        for _ in range(days):
            self.model.start_day()

    @precondition(lambda self: any(i.state == "not_due" for i in self.model.items))
    @rule(plus=st.integers(min_value=-1, max_value=1))
    def to_a_due_date(self, plus: int) -> None:
        """To the day before, the day of, or the day after the next deadline (or as far as a freeze lets it)."""
        target = min(i.due for i in self.model.items if i.state == "not_due") + timedelta(days=plus)
        while self.model.today < target and any(i.state == "not_due" for i in self.model.items):
            self.model.start_day()
            if self.model.status == L.FROZEN:
                break

    @rule(data=st.data(), channel=st.sampled_from(C), kind=st.sampled_from(["payoff", "due", "any", "above"]))
    def pay(self, data: st.DataObject, channel: C, kind: str) -> None:
        payoff, due = self.model.payoff(), sum(i.principal_left() + i.active_left() for i in self.model.items
                                               if i.state != "not_due")
        amount = {"payoff": payoff, "due": due, "above": payoff + 1}.get(
            kind, data.draw(st.integers(min_value=1, max_value=max(payoff, 1))))
        refused = (channel not in TAKES.get(self.model.status, set()) or amount > payoff or amount <= 0
                   or (channel == C.AUTOMATIC and not self.model.product_active))
        repayment = Repayment(loan_id=1, amount=amount, channel=channel, requested_at=AT, id=len(self.repayments) + 1)
        if refused:
            with pytest.raises(RepaymentRefused):
                repayment.complete(self.now(), self.model.today, AT, self.model.product_active)
            assert repayment.applied() is None
            return
        repayment.complete(self.now(), self.model.today, AT, self.model.product_active)
        self.repayments.append(repayment)
        self.model.pay(repayment.id or 0, amount)
        assert [(a.installment, a.interest, a.principal) for a in repayment.allocations] == sorted(
            p for p in self.model.paid_by[repayment.id or 0] if p[1] or p[2])
        self.settle_if_due()

    @precondition(lambda self: bool(self.model.paid_by))
    @rule(data=st.data(), reason=st.sampled_from(ReversalReason))
    def reverse(self, data: st.DataObject, reason: ReversalReason) -> None:
        repayment = data.draw(st.sampled_from(self.accepted()))
        repayment.reverse(reason, self.model.today, AT)
        self.model.reverse(repayment.id or 0)
        self.settle_if_due()

    @rule(amount=st.integers(min_value=1, max_value=10_000))
    def reject_a_pre_payment(self, amount: int) -> None:
        repayment = Repayment(loan_id=1, amount=amount, channel=C.AUTOMATIC, requested_at=AT)
        repayment.reject("declined", AT)
        assert repayment.applied() is None

    # --- the checks ---------------------------------------------------------------------------------------------
    @invariant()
    def agrees_with_the_model(self) -> None:
        if not hasattr(self, "model"):
            return
        p = self.now()
        assert self.loan.status == self.model.status == p.status
        for row, item in zip(p.installments, self.model.items, strict=True):
            assert (row.due_on, row.interest_state, row.principal_paid, row.interest_paid, row.void) == (
                item.due, InterestState(item.state), item.principal_paid, item.interest_paid, item.void), row.number
        assert p.payoff == self.model.payoff()
        assert p.days_past_due == self.model.days_past_due()
        assert p.settled is self.model.owes_nothing()

    @invariant()
    def the_books_add_up(self) -> None:
        if not hasattr(self, "model"):
            return
        applied = [a for r in self.repayments if (a := r.applied())]
        assert verify(LoanBook(1, self.principal, self.loan.status, self.now(), applied)) == []


class LoanMachine(RepaymentMachine):
    """The same, with the loan frozen, disputed, resolved and cancelled, and its product switched off and on."""

    def event(self, event: E) -> None:
        reason = CancellationReason.RETURNED if event == E.CANCEL else None
        if self.model.status not in MOVES[event][0]:
            before = (self.loan.status, list(self.loan.history))
            with pytest.raises(LoanError):
                self.loan.apply(event, self.model.today, AT, reason)
            assert (self.loan.status, self.loan.history) == before
            return
        self.loan.apply(event, self.model.today, AT, reason)
        self.model.move(event)

    @rule(event=st.sampled_from([E.FREEZE, E.UNFREEZE, E.OPEN_DISPUTE, E.RESOLVE_DISPUTE] * 2 + [E.CANCEL]))
    def status_event(self, event: E) -> None:
        """A cancellation ends a loan's story, so it comes half as often as each other event."""
        self.event(event)

    @rule()
    def switch_the_product(self) -> None:
        if self.model.product_active:
            self.product_periods.append(Period(self.model.today))
        else:
            self.product_periods[-1] = Period(self.product_periods[-1].start, self.model.today)
        self.model.product_active = not self.model.product_active


RepaymentMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
LoanMachine.TestCase.settings = settings(max_examples=250, stateful_step_count=40, deadline=None)
TestRepayments = RepaymentMachine.TestCase
TestLoan = LoanMachine.TestCase
