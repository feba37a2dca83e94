"""Repayments: which loans take which channel, the order a payment pays in, the refusal of an amount above what
is owed, reversal of exactly what was paid, and a loan settling (and reopening) by itself."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from domain.credits import CreditStatus as L
from domain.loan_balances import Allocation, LoanRecord, position
from domain.loan_schedules import LoanTerms, build_schedule
from domain.loans import LoanEvent as E
from domain.repayments import (
    PaymentChannel as C,
    PaymentStatus,
    PrePaymentStatus as P,
    Repayment,
    RepaymentError,
    RepaymentRefused,
    ReversalReason,
    allocate,
    payment_refusal,
    settlement_event,
)

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCHEDULE = build_schedule(LoanTerms(300_000, 3, date(2026, 1, 10), Decimal("0.36")))
# principal 97 059 / 99 971 / 102 970; interest 9 000 / 6 088 / 3 089; due 10 Feb, 10 Mar, 10 Apr
FEB10, MAR10, APR10 = (i.due_on for i in SCHEDULE)
# The manual's allowed actions written out again: the channels each status takes.
TAKES = {L.ACTIVE: {C.AUTOMATIC, C.VOLUNTARY}, L.FROZEN: {C.VOLUNTARY}, L.IN_DISPUTE: {C.VOLUNTARY}}


@pytest.mark.parametrize("status", list(L))
@pytest.mark.parametrize("channel", list(C))
def test_every_status_against_every_channel(status: L, channel: C) -> None:
    refusal = payment_refusal(status, channel)
    assert (refusal is None) is (channel in TAKES.get(status, set()))
    if refusal:
        assert status.value in refusal and channel.value in refusal


def test_an_inactive_product_collects_nothing_automatically() -> None:
    assert payment_refusal(L.ACTIVE, C.AUTOMATIC, product_active=False)
    assert payment_refusal(L.ACTIVE, C.VOLUNTARY, product_active=False) is None


def as_of(day: date, *repayments: Repayment) -> LoanRecord:
    return LoanRecord(SCHEDULE, payments=[a for r in repayments if (a := r.applied())])


def paid(amount: int, day: date, *earlier: Repayment, channel: C = C.VOLUNTARY, status: L = L.ACTIVE) -> Repayment:
    repayment = Repayment(loan_id=1, amount=amount, channel=channel, requested_at=AT, id=len(earlier) + 1)
    p = position(as_of(day, *earlier), day)
    repayment.complete(replace(p, status=status), day, AT)
    return repayment


def test_a_payment_pays_the_oldest_due_installment_interest_first() -> None:
    r = paid(9_000 + 97_059 + 6_088 + 5, MAR10)
    assert r.allocations == (Allocation(1, 9_000, 97_059), Allocation(2, 6_088, 5))
    assert (r.status, r.payment_status, r.accepted_on) == (P.COMPLETED, PaymentStatus.ACCEPTED, MAR10)


def test_what_is_beyond_the_dues_prepays_principal_from_the_last_installment_back() -> None:
    r = paid(9_000 + 97_059 + 102_970 + 10, FEB10)
    assert r.allocations == (Allocation(1, 9_000, 97_059), Allocation(2, 0, 10), Allocation(3, 0, 102_970))
    p = position(as_of(date(2026, 12, 31), r), date(2026, 12, 31))
    assert p.installments[2].interest_charged == 0  # its principal was repaid before it fell due
    assert p.interest_charged == 9_000 + 6_088


def test_the_payoff_is_the_principal_and_the_interest_due_and_settles_the_loan() -> None:
    p = position(as_of(MAR10), MAR10)
    assert p.payoff == 300_000 + 9_000 + 6_088
    r = paid(p.payoff, MAR10)
    after = position(as_of(MAR10, r), MAR10)
    assert after.settled and settlement_event(L.ACTIVE, after) == E.SETTLE
    assert position(as_of(date(2027, 1, 1), r), date(2027, 1, 1)).settled  # no interest after the payoff


def test_an_amount_above_what_is_owed_is_refused_and_nothing_changes() -> None:
    p = position(as_of(MAR10), MAR10)
    repayment = Repayment(loan_id=1, amount=p.payoff + 1, channel=C.VOLUNTARY, requested_at=AT)
    with pytest.raises(RepaymentRefused):
        repayment.complete(p, MAR10, AT)
    assert (repayment.status, repayment.payment_status, repayment.allocations, repayment.history) == (
        P.PENDING, None, (), [])
    with pytest.raises(RepaymentRefused):
        allocate(p, 0)


@pytest.mark.parametrize("status, channel", [(L.IN_DISPUTE, C.AUTOMATIC), (L.FROZEN, C.AUTOMATIC),
                                             (L.PAID, C.VOLUNTARY), (L.CANCELLED, C.VOLUNTARY)])
def test_a_status_that_refuses_the_channel_leaves_the_payment_pending(status: L, channel: C) -> None:
    with pytest.raises(RepaymentRefused):
        paid(1_000, MAR10, channel=channel, status=status)


def test_a_reversal_reopens_exactly_what_the_payment_paid() -> None:
    first = paid(50_000, MAR10)
    second = paid(80_000, MAR10, first)
    before = position(as_of(MAR10, first, second), MAR10)
    first.reverse(ReversalReason.REFUND, date(2026, 3, 12), AT)
    after = position(as_of(date(2026, 3, 12), first, second), date(2026, 3, 12))
    reopened = {a.installment: a for a in first.allocations}
    for b, a in zip(before.installments, after.installments):
        part = reopened.get(b.number, Allocation(b.number, 0, 0))
        assert (b.interest_paid - a.interest_paid, b.principal_paid - a.principal_paid) == (part.interest, part.principal)
    assert first.payment_status == PaymentStatus.REVERSED and first.reversal_reason == ReversalReason.REFUND
    assert [(h.from_status, h.to_status, h.detail) for h in first.history] == [
        ("pending", "completed", None), (None, "accepted", None), ("accepted", "reversed", "refund")]


def test_a_reversal_reopens_a_paid_loan() -> None:
    r = paid(position(as_of(MAR10), MAR10).payoff, MAR10)
    r.reverse(ReversalReason.FRAUD, MAR10, AT)
    assert settlement_event(L.PAID, position(as_of(MAR10, r), MAR10)) == E.REOPEN
    assert settlement_event(L.ACTIVE, position(as_of(MAR10, r), MAR10)) is None


def test_pre_payment_moves() -> None:
    r = Repayment(loan_id=1, amount=100, channel=C.AUTOMATIC, requested_at=AT)
    r.reject("card declined", AT)
    assert r.status == P.REJECTED and r.rejection == "card declined" and r.applied() is None
    with pytest.raises(RepaymentError):
        r.reject("again", AT)
    with pytest.raises(RepaymentError):
        r.complete(position(as_of(MAR10), MAR10), MAR10, AT)
    with pytest.raises(RepaymentError):
        r.reverse(ReversalReason.DISPUTE, MAR10, AT)
    assert r.status == P.REJECTED


def test_only_an_accepted_payment_is_reversed_once_and_not_before_it_was_accepted() -> None:
    r = paid(1_000, MAR10)
    with pytest.raises(RepaymentError):
        r.reverse(ReversalReason.DISPUTE, FEB10, AT)
    r.reverse(ReversalReason.DISPUTE, MAR10, AT)
    with pytest.raises(RepaymentError):
        r.reverse(ReversalReason.DISPUTE, MAR10, AT)
    with pytest.raises(RepaymentError):
        Repayment(loan_id=1, amount=5, channel=C.VOLUNTARY, requested_at=AT).reverse(ReversalReason.FRAUD, MAR10, AT)


def test_a_payment_is_applied_as_of_its_own_day() -> None:
    r = Repayment(loan_id=1, amount=5, channel=C.VOLUNTARY, requested_at=AT)
    with pytest.raises(RepaymentError):
        r.complete(position(as_of(MAR10), MAR10), APR10, AT)
    assert r.status == P.PENDING


def test_reversal_reasons_are_those_of_the_manual() -> None:
    assert {r.value for r in ReversalReason} == {"fraud", "dispute", "refund", "rejection", "business_rule"}
