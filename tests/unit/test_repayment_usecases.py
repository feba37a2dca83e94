"""Repayments' use cases on the fake unit of work: what each customer status lets a customer pay (every status
against every channel, paid through the platform or recorded by an operator), what each loan status takes,
the checks that change nothing, the step that applies (or rejects) a pending one, settlement and reopening,
a person's rejection and a reversal that re-opens exactly what the payment paid."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.credits import CancellationReason, CreditStatus as L
from domain.customers import CustomerAction as A, CustomerStatus as S
from domain.loan_balances import Allocation
from domain.loans import LoanEvent, move
from domain.money import MAX_MINOR
from domain.products import ProductAction
from domain.repayments import PaymentChannel as C, PaymentStatus, PrePaymentStatus as P
from tests.fake_uow import FakeUnitOfWork
from tests.loan_factories import active_loan
from usecases import products, repayments, steps
from usecases.customers import CustomerRules, StatusConflict, apply_automatic_moves
from usecases.errors import Conflict, Invalid, NotFound
from usecases.loan_days import lender_today
from usecases.loan_positions import bring_up_to_date, current_position

START = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # Monday 23 November 2026, 09:00 in Mexico City
# the factory's loan: 300 000 at 36 % in 3 monthly installments from 23 November 2026
# principal 97 059 / 99 971 / 102 970; interest 9 000 / 6 088 / 3 089; due 23 Dec, 23 Jan, 23 Feb
DEC23, JAN23, FEB23 = date(2026, 12, 23), date(2027, 1, 23), date(2027, 2, 23)

# The manual's allowed actions, written out again: who may pay through the platform, and who may have a
# payment made outside recorded by an operator.
PAYS_OWN_CHANNEL = {S.ENABLED, S.DISABLED}
PAYS_RECORDED = {S.ENABLED, S.DISABLED, S.BLOCKED}
# and the channels each loan status takes
TAKES = {L.ACTIVE: {C.AUTOMATIC, C.VOLUNTARY}, L.FROZEN: {C.VOLUNTARY}, L.IN_DISPUTE: {C.VOLUNTARY}}


class Clock:
    """The fake unit of work's clock, moved by whole days."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def to(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 15, 0, tzinfo=timezone.utc)


@dataclass
class BookLoans:
    """The customers' rules asking the fake loan book: the largest days past due of the customer's loans as
    last brought up to date."""

    uow: FakeUnitOfWork

    def outstanding(self, customer_id: int) -> int:
        return 0

    def max_days_past_due(self, customer_id: int) -> int:
        return max((c.days_past_due for c in self.uow.credits.all() if c.customer_id == customer_id), default=0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def uow(clock: Clock) -> FakeUnitOfWork:
    return FakeUnitOfWork(clock)


def rules(uow: FakeUnitOfWork) -> CustomerRules:
    return CustomerRules(30, BookLoans(uow))


def pay(uow: FakeUnitOfWork, loan_id: int | None, amount: int, channel: str = "voluntary", by_operator: bool = False,
        external_id: str | None = None) -> Any:
    fields = {"external_id": external_id or f"pay-{len(uow.repayments.rows) + 1}", "loan_id": loan_id,
              "amount": amount, "channel": channel, "recorded_by_operator": by_operator}
    return repayments.record(uow, fields)[0]


def paid(uow: FakeUnitOfWork, loan_id: int | None, amount: int, **kw: Any) -> Any:
    """Recorded and applied by the step."""
    return repayments.apply(uow, pay(uow, loan_id, amount, **kw).id, rules(uow))


def nothing_recorded(uow: FakeUnitOfWork) -> None:
    assert uow.repayments.rows == {}
    assert [step.actor_name for step, _ in uow.outbox.messages] == ["contribute"]  # the loan's delivery only


# --- recording: the customer's status, the loan's, the channel, the amount --------------------------------


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("channel", list(C))
@pytest.mark.parametrize("by_operator", [False, True])
def test_every_customer_status_against_every_way_of_paying(uow: FakeUnitOfWork, status: S, channel: C,
                                                            by_operator: bool) -> None:
    loan = active_loan(uow)
    assert loan.customer_id is not None
    uow.customers.get(loan.customer_id).status = status
    before = len(uow.outbox.messages)
    if by_operator and channel == C.AUTOMATIC:
        with pytest.raises(Invalid, match="automatic payment"):
            pay(uow, loan.id, 1_000, channel.value, by_operator)
        nothing_recorded(uow)
        return
    if status in (PAYS_RECORDED if by_operator else PAYS_OWN_CHANNEL):
        made = pay(uow, loan.id, 1_000, channel.value, by_operator)
        assert (made.status, made.channel, made.recorded_by_operator) == (P.PENDING, channel, by_operator)
        assert uow.outbox.messages[before:] == [(steps.APPLY_REPAYMENT, (made.id,))]
        return
    with pytest.raises(StatusConflict) as refused:
        pay(uow, loan.id, 1_000, channel.value, by_operator)
    action = A.PAY_RECORDED_BY_OPERATOR if by_operator else A.PAY_OWN_CHANNEL
    assert refused.value.extra["status"] == status.value
    assert action.value not in refused.value.extra["allowed_actions"]
    nothing_recorded(uow)


def _in_status(uow: FakeUnitOfWork, status: L) -> int:
    """An active loan moved to ``status`` (its credit's status set for the ones no move reaches today)."""
    loan = active_loan(uow)
    assert loan.id is not None
    event = {L.FROZEN: LoanEvent.FREEZE, L.IN_DISPUTE: LoanEvent.OPEN_DISPUTE, L.CANCELLED: LoanEvent.CANCEL}.get(status)
    if event is not None:
        change, _ = move(loan.id, loan.status, event, lender_today(uow), uow.clock(),
                         CancellationReason.RETURNED if event == LoanEvent.CANCEL else None)
        uow.loans.add_change(loan.id, change)
    loan.status = status
    return loan.id


@pytest.mark.parametrize("status", list(L))
@pytest.mark.parametrize("channel", list(C))
def test_every_loan_status_against_every_channel(uow: FakeUnitOfWork, status: L, channel: C) -> None:
    loan_id = _in_status(uow, status)
    if channel in TAKES.get(status, set()):
        assert pay(uow, loan_id, 1_000, channel.value).status == P.PENDING
        return
    with pytest.raises(Conflict) as refused:
        pay(uow, loan_id, 1_000, channel.value)
    assert status.value in str(refused.value) and channel.value in str(refused.value)
    nothing_recorded(uow)


def test_an_inactive_product_collects_nothing_automatically(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    products.move_product(uow, loan.product_id or 0, ProductAction.DEACTIVATE)
    with pytest.raises(Conflict, match="inactive"):
        pay(uow, loan.id, 1_000, "automatic")
    nothing_recorded(uow)
    assert pay(uow, loan.id, 1_000, "voluntary").status == P.PENDING


def test_an_amount_above_what_the_loan_owes_today_is_refused(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    with pytest.raises(Conflict, match=r"above what the loan owes today \(300000\)"):
        pay(uow, loan.id, 300_001)
    nothing_recorded(uow)
    assert pay(uow, loan.id, 300_000).amount == 300_000


def test_a_credit_without_a_customer_is_no_loan(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    loan.customer_id = None
    with pytest.raises(NotFound, match=f"loan {loan.id} does not exist"):
        pay(uow, loan.id, 1_000)
    with pytest.raises(NotFound, match="loan 99 does not exist"):
        pay(uow, 99, 1_000)
    nothing_recorded(uow)


@pytest.mark.parametrize("change, words", [
    ({"external_id": ""}, "external_id"), ({"external_id": "x" * 65}, "external_id"),
    ({"external_id": "a\nb"}, "external_id"), ({"external_id": 7}, "external_id"),
    ({"loan_id": 0}, "loan_id"), ({"loan_id": "1"}, "loan_id"), ({"loan_id": True}, "loan_id"),
    ({"amount": 0}, "amount"), ({"amount": MAX_MINOR + 1}, "amount"), ({"amount": 10.5}, "amount"),
    ({"amount": True}, "amount"), ({"amount": None}, "amount"),
    ({"channel": "cash"}, "channel"), ({"channel": None}, "channel"),
    ({"recorded_by_operator": "yes"}, "recorded_by_operator"),
])
def test_bad_input_is_invalid_and_changes_nothing(uow: FakeUnitOfWork, change: dict[str, Any], words: str) -> None:
    loan = active_loan(uow)
    fields = {"external_id": "p-1", "loan_id": loan.id, "amount": 1_000, "channel": "voluntary", **change}
    with pytest.raises(Invalid, match=words):
        repayments.record(uow, fields)
    nothing_recorded(uow)


def test_the_limits_are_taken(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    made = pay(uow, loan.id, 1, external_id="x" * 64)
    assert (made.external_id, made.amount) == ("x" * 64, 1)


def test_the_same_external_id_is_the_same_payment(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    first, new = repayments.record(uow, {"external_id": "p-1", "loan_id": loan.id, "amount": 5_000,
                                         "channel": "voluntary"})
    again, repeated = repayments.record(uow, {"external_id": "p-1", "loan_id": loan.id, "amount": 5_000,
                                              "channel": "voluntary", "recorded_by_operator": False})
    assert (new, repeated, again) == (True, False, first)
    with pytest.raises(Conflict, match="other terms"):
        repayments.record(uow, {"external_id": "p-1", "loan_id": loan.id, "amount": 5_001, "channel": "voluntary"})
    assert len(uow.repayments.rows) == 1
    assert [step.actor_name for step, _ in uow.outbox.messages].count("apply_repayment") == 1


# --- the step: applied, or rejected with the reason ------------------------------------------------------


def test_a_payment_pays_the_oldest_due_installment_interest_first(uow: FakeUnitOfWork, clock: Clock) -> None:
    loan = active_loan(uow)
    clock.to(JAN23)
    r = paid(uow, loan.id, 9_000 + 97_059 + 6_088 + 5)
    assert (r.status, r.payment_status, r.accepted_on) == (P.COMPLETED, PaymentStatus.ACCEPTED, JAN23)
    assert r.allocations == (Allocation(1, 9_000, 97_059), Allocation(2, 6_088, 5))
    stored = uow.loans.positions[loan.id or 0]
    assert [(i.interest_paid, i.principal_paid) for i in stored.installments] == [(9_000, 97_059), (6_088, 5), (0, 0)]
    assert (loan.days_past_due, loan.serviced_on) == (0, JAN23)
    assert [h.to_status for h in r.history] == ["pending", "completed", "accepted"]
    assert uow.kinds()[-1] == "repayment_accepted"


def test_the_step_is_idempotent(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    r = paid(uow, loan.id, 10_000)
    again = repayments.apply(uow, r.id, rules(uow))
    assert again is r and len(r.history) == 3 and uow.kinds().count("repayment_accepted") == 1
    assert len(uow.loans.payments(loan.id or 0)) == 1


def test_the_step_checks_the_customer_again(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    r = pay(uow, loan.id, 10_000)
    uow.customers.get(loan.customer_id or 0).status = S.BLOCKED
    repayments.apply(uow, r.id, rules(uow))
    assert (r.status, r.payment_status) == (P.REJECTED, None)
    assert r.rejection and "blocked" in r.rejection and uow.kinds()[-1] == "repayment_rejected"
    assert uow.loans.payments(loan.id or 0) == []


def test_the_step_checks_the_loan_again(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    r = pay(uow, loan.id, 10_000, channel="automatic")
    change, _ = move(loan.id, loan.status, LoanEvent.FREEZE, lender_today(uow), uow.clock())
    uow.loans.add_change(loan.id or 0, change)
    loan.status = L.FROZEN
    repayments.apply(uow, r.id, rules(uow))
    assert r.status == P.REJECTED and r.rejection and "frozen" in r.rejection


def test_the_step_refuses_what_is_no_longer_owed(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    first, second = pay(uow, loan.id, 200_000), pay(uow, loan.id, 200_000)
    repayments.apply(uow, first.id, rules(uow))
    repayments.apply(uow, second.id, rules(uow))
    assert (first.payment_status, second.status) == (PaymentStatus.ACCEPTED, P.REJECTED)
    assert second.rejection and "above what the loan owes today (100000)" in second.rejection


# --- settling, reopening, and the customer's moves ---------------------------------------------------------


def test_the_payoff_settles_the_loan_and_its_reversal_reopens_it(uow: FakeUnitOfWork, clock: Clock) -> None:
    loan = active_loan(uow)
    clock.to(DEC23)
    payoff = current_position(uow, loan, DEC23).payoff
    assert payoff == 300_000 + 9_000
    r = paid(uow, loan.id, payoff)
    assert (loan.status, loan.status_on) == (L.PAID, DEC23)
    [_, settled] = uow.loans.history(loan.id or 0)
    assert (settled.event, settled.from_status, settled.to_status, settled.on) == (
        LoanEvent.SETTLE, L.ACTIVE, L.PAID, DEC23)
    with pytest.raises(Conflict, match="paid"):
        pay(uow, loan.id, 1)

    clock.to(DEC23 + timedelta(days=3))
    reversed_ = repayments.reverse(uow, r.id, "refund", rules(uow))
    assert (reversed_.payment_status, reversed_.reversal_reason.value if reversed_.reversal_reason else None,
            reversed_.reversed_on) == (PaymentStatus.REVERSED, "refund", DEC23 + timedelta(days=3))
    assert loan.status == L.ACTIVE and uow.loans.history(loan.id or 0)[-1].event == LoanEvent.REOPEN
    now = current_position(uow, loan, DEC23 + timedelta(days=3))
    assert (now.principal_outstanding, now.interest_due, now.days_past_due) == (300_000, 9_000, 3)
    assert uow.kinds()[-1] == "repayment_reversed"


def test_a_reversal_re_opens_exactly_what_it_paid(uow: FakeUnitOfWork, clock: Clock) -> None:
    loan = active_loan(uow)
    clock.to(JAN23)
    first = paid(uow, loan.id, 9_000 + 50_000)
    second = paid(uow, loan.id, 60_000)
    before_second = current_position(uow, loan, JAN23)
    repayments.reverse(uow, first.id, "fraud", rules(uow))
    after = current_position(uow, loan, JAN23)
    for row_before, row_after in zip(before_second.installments, after.installments):
        paid_by_first = next((a for a in first.allocations if a.installment == row_before.number), Allocation(0, 0, 0))
        assert row_before.principal_paid - row_after.principal_paid == paid_by_first.principal
        assert row_before.interest_paid - row_after.interest_paid == paid_by_first.interest
    assert second.payment_status == PaymentStatus.ACCEPTED


def test_a_customer_cured_of_its_late_loan_is_enabled_again(uow: FakeUnitOfWork, clock: Clock) -> None:
    loan = active_loan(uow)
    customer = uow.customers.get(loan.customer_id or 0)
    late = DEC23 + timedelta(days=31)
    clock.to(late)
    bring_up_to_date(uow, loan, late)
    apply_automatic_moves(uow, customer.id or 0, rules(uow))
    assert (loan.days_past_due, customer.status) == (31, S.DISABLED)
    paid(uow, loan.id, 9_000 + 97_059)
    assert (loan.days_past_due, customer.status) == (0, S.ENABLED)
    assert [m.event.value for m in customer.moves][-2:] == ["fell_past_due", "cured"]


# --- a person's rejection, and reversals refused ---------------------------------------------------------


def test_a_person_rejects_a_pending_one_and_the_step_leaves_it(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    r = pay(uow, loan.id, 10_000)
    repayments.reject(uow, r.id, "the bank bounced it")
    assert (r.status, r.rejection) == (P.REJECTED, "the bank bounced it")
    assert repayments.reject(uow, r.id, "the bank bounced it") is r and len(r.history) == 2
    with pytest.raises(Conflict, match="rejected"):
        repayments.reject(uow, r.id, "another reason")
    repayments.apply(uow, r.id, rules(uow))
    assert r.status == P.REJECTED and uow.loans.payments(loan.id or 0) == []


@pytest.mark.parametrize("reason", ["", " ", "x" * 256, None, 7])
def test_a_rejection_needs_a_reason(uow: FakeUnitOfWork, reason: Any) -> None:
    loan = active_loan(uow)
    r = pay(uow, loan.id, 10_000)
    with pytest.raises(Invalid, match="reason"):
        repayments.reject(uow, r.id, reason)
    assert r.status == P.PENDING


def test_a_completed_one_is_not_rejected(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    r = paid(uow, loan.id, 10_000)
    with pytest.raises(Conflict, match="completed"):
        repayments.reject(uow, r.id, "too late")


def test_only_an_accepted_payment_is_reversed_and_for_one_reason(uow: FakeUnitOfWork) -> None:
    loan = active_loan(uow)
    pending = pay(uow, loan.id, 10_000)
    with pytest.raises(Conflict, match="pending"):
        repayments.reverse(uow, pending.id, "fraud", rules(uow))
    with pytest.raises(Invalid, match="reason"):
        repayments.reverse(uow, pending.id, "whim", rules(uow))
    r = repayments.apply(uow, pending.id, rules(uow))
    repayments.reverse(uow, r.id, "dispute", rules(uow))
    assert repayments.reverse(uow, r.id, "dispute", rules(uow)) is r
    assert uow.kinds().count("repayment_reversed") == 1
    with pytest.raises(Conflict, match="reversed"):
        repayments.reverse(uow, r.id, "fraud", rules(uow))
    with pytest.raises(NotFound, match="repayment 99 does not exist"):
        repayments.reverse(uow, 99, "fraud", rules(uow))


def test_pages_filter_by_loan_and_status(uow: FakeUnitOfWork) -> None:
    one, two = active_loan(uow), active_loan(uow)
    a = paid(uow, one.id, 1_000)
    pay(uow, one.id, 2_000)
    paid(uow, two.id, 3_000)
    repayments.reverse(uow, a.id, "refund", rules(uow))
    page = repayments.repayments_page(uow, one.id, None, 1, 50)
    assert [r["amount"] for r in page["items"]] == [1_000, 2_000] and page["total"] == 2
    assert [r["amount"] for r in repayments.repayments_page(uow, None, "reversed", 1, 50)["items"]] == [1_000]
    assert [r["amount"] for r in repayments.repayments_page(uow, None, "completed", 1, 50)["items"]] == [1_000, 3_000]
    assert [r["amount"] for r in repayments.repayments_page(uow, None, "pending", 1, 50)["items"]] == [2_000]
    with pytest.raises(NotFound):
        repayments.repayments_page(uow, 99, None, 1, 50)
