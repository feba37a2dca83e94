"""A Hypothesis state machine drives one loan through the repayments' use cases on the fake unit of work:
payments of any amount and channel (applied at once or left pending while the loan changes), a person's
rejections, reversals, freezes and disputes (domain moves written as a loan use case would), the product
switched off and on, and the days passing. After each step the loan agrees with the day-by-day model of
tests/unit/test_loans_stateful.py (which knows nothing of histories or as-of computations), its stored
installments equal its position, and the loan book's identities hold."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.credits import Credit, CreditStatus as L
from domain.customers import CustomerStatus
from domain.loan_balances import InterestState, LoanPosition
from domain.loan_book import LoanBook, verify
from domain.loans import LoanEvent as E, move
from domain.products import ProductAction
from domain.repayments import PaymentChannel as C, PaymentStatus, PrePaymentStatus as P, Repayment, ReversalReason
from tests.fake_uow import FakeUnitOfWork
from tests.loan_factories import active_loan
from tests.unit.test_loans_stateful import MOVES, TAKES, Item, Model
from tests.unit.test_repayment_usecases import BookLoans
from usecases import products, repayments
from usecases.customers import CustomerRules
from usecases.errors import Conflict, Invalid
from usecases.loan_positions import bring_up_to_date, current_position

START = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
THRESHOLD = 30


class RepaymentUseCaseMachine(RuleBasedStateMachine):
    """One loan, its payments and its moves, through the use cases."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.uow = FakeUnitOfWork(lambda: self.now)
        self.customer_rules = CustomerRules(THRESHOLD, BookLoans(self.uow))
        self.pending: list[Repayment] = []
        self.serial = 0

    @initialize(principal=st.one_of(st.integers(1, 1_000), st.integers(1, 5_000_000)),
                payments=st.integers(1, 6), rate=st.sampled_from(["0", "0.36", "1"]))
    def sign(self, principal: int, payments: int, rate: str) -> None:
        self.loan: Credit = active_loan(self.uow, principal, payments, rate)
        self.principal = principal
        self.model = Model(self.loan.status_on or START.date(),
                           [Item(i.number, i.due_on, i.principal, i.interest)
                            for i in self.uow.loans.schedule(self.loan.id or 0)])
        assert sum(i.principal for i in self.model.items) == principal and Decimal(rate) == self.loan.annual_rate

    # --- helpers ------------------------------------------------------------------------------------------------
    @property
    def loan_id(self) -> int:
        assert self.loan.id is not None
        return self.loan.id

    def position(self) -> LoanPosition:
        return current_position(self.uow, self.loan, self.model.today)

    def to_today(self) -> None:
        day = self.model.today
        self.now = datetime(day.year, day.month, day.day, 15, 0, tzinfo=timezone.utc)

    def refused(self, channel: C, amount: int) -> bool:
        return (channel not in TAKES.get(self.model.status, set()) or amount > self.model.payoff()
                or (channel == C.AUTOMATIC and not self.model.product_active))

    def accepted(self, repayment: Repayment) -> None:
        assert (repayment.status, repayment.payment_status) == (P.COMPLETED, PaymentStatus.ACCEPTED)
        assert repayment.id is not None
        self.model.pay(repayment.id, repayment.amount)
        assert [(a.installment, a.interest, a.principal) for a in repayment.allocations] == sorted(
            p for p in self.model.paid_by[repayment.id] if p[1] or p[2])
        self.customer_follows_the_loan()

    def customer_follows_the_loan(self) -> None:
        """The customer's automatic moves ran with the loan just brought up to date."""
        customer = self.uow.customers.get(self.loan.customer_id or 0)
        late = self.loan.days_past_due > THRESHOLD
        assert customer.status == (CustomerStatus.DISABLED if late else CustomerStatus.ENABLED)

    def standing(self) -> list[Repayment]:
        return [r for r in self.uow.repayments.all() if r.payment_status == PaymentStatus.ACCEPTED]

    # --- rules --------------------------------------------------------------------------------------------------
    @rule(days=st.integers(min_value=1, max_value=40))
    def days_pass(self, days: int) -> None:
        for _ in range(days):
            self.model.start_day()
        self.to_today()

    @precondition(lambda self: hasattr(self, "model") and any(i.state == "not_due" for i in self.model.items))
    @rule(plus=st.integers(min_value=-1, max_value=1))
    def to_a_due_date(self, plus: int) -> None:
        target = min(i.due for i in self.model.items if i.state == "not_due")
        target = date.fromordinal(target.toordinal() + plus)
        while self.model.today < target and any(i.state == "not_due" for i in self.model.items):
            self.model.start_day()
            if self.model.status == L.FROZEN:
                break
        self.to_today()

    @rule(data=st.data(), channel=st.sampled_from(C), kind=st.sampled_from(["payoff", "due", "any", "above"]),
          apply_now=st.booleans())
    def pay(self, data: st.DataObject, channel: C, kind: str, apply_now: bool) -> None:
        payoff = self.model.payoff()
        due = sum(i.principal_left() + i.active_left() for i in self.model.items if i.state != "not_due")
        amount = {"payoff": payoff, "due": due, "above": payoff + 1}.get(
            kind, data.draw(st.integers(min_value=1, max_value=max(payoff, 1))))
        self.serial += 1
        fields = {"external_id": f"pay-{self.serial}", "loan_id": self.loan_id, "amount": amount,
                  "channel": channel.value}
        before = len(self.uow.repayments.rows)
        if amount <= 0 or self.refused(channel, amount):
            with pytest.raises(Invalid if amount <= 0 else Conflict):
                repayments.record(self.uow, fields)
            assert len(self.uow.repayments.rows) == before
            return
        repayment, new = repayments.record(self.uow, fields)
        assert new and repayment.status == P.PENDING
        if apply_now:
            self.accepted(repayments.apply(self.uow, repayment.id or 0, self.customer_rules))
        else:
            self.pending.append(repayment)

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data())
    def apply_a_pending_one(self, data: st.DataObject) -> None:
        """Applied later: the loan may have moved, been paid, or changed product since it was recorded."""
        repayment = data.draw(st.sampled_from(self.pending))
        self.pending.remove(repayment)
        refused = self.refused(repayment.channel, repayment.amount)
        repayments.apply(self.uow, repayment.id or 0, self.customer_rules)
        if refused:
            assert repayment.status == P.REJECTED and repayment.rejection and repayment.applied() is None
        else:
            self.accepted(repayment)

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data())
    def a_person_rejects_a_pending_one(self, data: st.DataObject) -> None:
        repayment = data.draw(st.sampled_from(self.pending))
        self.pending.remove(repayment)
        repayments.reject(self.uow, repayment.id or 0, "declined by the bank")
        repayments.apply(self.uow, repayment.id or 0, self.customer_rules)  # the step comes after: it changes nothing
        assert (repayment.status, repayment.rejection) == (P.REJECTED, "declined by the bank")

    @precondition(lambda self: hasattr(self, "model") and bool(self.model.paid_by))
    @rule(data=st.data(), reason=st.sampled_from(ReversalReason))
    def reverse(self, data: st.DataObject, reason: ReversalReason) -> None:
        repayment = data.draw(st.sampled_from(self.standing()))
        repayments.reverse(self.uow, repayment.id or 0, reason.value, self.customer_rules)
        assert (repayment.payment_status, repayment.reversal_reason) == (PaymentStatus.REVERSED, reason)
        self.model.reverse(repayment.id or 0)
        self.customer_follows_the_loan()

    @rule(event=st.sampled_from([E.FREEZE, E.UNFREEZE, E.OPEN_DISPUTE, E.RESOLVE_DISPUTE]))
    def status_event(self, event: E) -> None:
        """A loan use case's move (helper A's, not on this branch): the domain's move written, the loan
        brought up to date."""
        if not hasattr(self, "model") or self.model.status not in MOVES[event][0]:
            return
        change, _ = move(self.loan_id, self.loan.status, event, self.model.today, self.now,
                         last_on=self.loan.status_on)
        self.uow.loans.add_change(self.loan_id, change)
        self.loan.status, self.loan.status_on = change.to_status, self.model.today
        bring_up_to_date(self.uow, self.loan, self.model.today)
        self.model.move(event)

    @precondition(lambda self: hasattr(self, "model"))
    @rule()
    def switch_the_product(self) -> None:
        action = ProductAction.DEACTIVATE if self.model.product_active else ProductAction.ACTIVATE
        products.move_product(self.uow, self.loan.product_id or 0, action)
        self.model.product_active = not self.model.product_active

    # --- the checks ---------------------------------------------------------------------------------------------
    @invariant()
    def agrees_with_the_model(self) -> None:
        if not hasattr(self, "model"):
            return
        p, m = self.position(), self.model
        assert self.loan.status == m.status == p.status
        assert [(r.due_on, r.interest_state, r.principal_paid, r.interest_paid, r.void) for r in p.installments] == [
            (i.due, InterestState(i.state), i.principal_paid, i.interest_paid, i.void) for i in m.items]
        assert (p.payoff, p.days_past_due, p.settled) == (m.payoff(), m.days_past_due(), m.owes_nothing())
        standing = sum(r.amount for r in self.standing())
        assert p.principal_repaid + p.interest_repaid == standing

    @invariant()
    def stored_installments_are_its_position(self) -> None:
        if not hasattr(self, "model"):
            return
        serviced_on = self.loan.serviced_on
        assert serviced_on is not None
        assert self.uow.loans.positions[self.loan_id] == current_position(self.uow, self.loan, serviced_on)

    @invariant()
    def the_books_add_up(self) -> None:
        if not hasattr(self, "model"):
            return
        book = LoanBook(self.loan_id, self.principal, self.loan.status, self.position(),
                        self.uow.loans.payments(self.loan_id))
        assert verify(book) == []


RepaymentUseCaseMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestRepaymentUseCases = RepaymentUseCaseMachine.TestCase
