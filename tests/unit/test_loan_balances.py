"""A loan as of a day: deadlines moved by freezes, interest active, inactive, waived or void by status, days
past due and the delinquency buckets."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.credits import CancellationReason, CreditStatus as L
from domain.loan_balances import (
    Allocation,
    AppliedPayment,
    Bucket,
    InterestState as I,
    LoanRecord,
    Period,
    bucket_of,
    position,
)
from domain.loan_schedules import LoanTerms, build_schedule
from domain.loans import Loan, LoanEvent as E

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCHEDULE = build_schedule(LoanTerms(300_000, 3, date(2026, 1, 10), Decimal("0.36")))  # due 10 Feb, 10 Mar, 10 Apr
FEB10, MAR10, APR10 = (i.due_on for i in SCHEDULE)


def loan_with(*moves: tuple[E, date]) -> Loan:
    loan = Loan(credit_id=1)
    for event, on in moves:
        loan.apply(event, on, AT, CancellationReason.RETURNED if event == E.CANCEL else None)
    return loan


def test_the_schedule_used_here() -> None:
    assert (FEB10, MAR10, APR10) == (date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 10))
    assert [i.interest for i in SCHEDULE] == [9_000, 6_088, 3_089]


def test_interest_is_charged_as_each_installment_falls_due() -> None:
    record = LoanRecord(SCHEDULE)
    before = position(record, FEB10 - timedelta(days=1))
    assert before.interest_charged == 0 and before.payoff == 300_000 and before.days_past_due == 0
    on_the_day = position(record, FEB10)
    assert on_the_day.interest_charged == 9_000 and on_the_day.interest_due == 9_000
    assert on_the_day.days_past_due == 0 and on_the_day.bucket == Bucket.HEALTHY
    later = position(record, MAR10 + timedelta(days=5))
    assert later.interest_charged == 15_088 and later.days_past_due == 33 and later.bucket == Bucket.DPD_31_60


def test_a_freeze_moves_every_deadline_not_yet_reached_by_its_days_and_adds_no_interest() -> None:
    loan = loan_with((E.FREEZE, date(2026, 2, 20)), (E.UNFREEZE, date(2026, 3, 2)))  # 10 days frozen
    record = LoanRecord(SCHEDULE, loan.history)
    p = position(record, date(2026, 12, 31))
    assert [i.due_on for i in p.installments] == [FEB10, MAR10 + timedelta(days=10), APR10 + timedelta(days=10)]
    assert p.interest_charged == sum(i.interest for i in SCHEDULE)
    assert position(record, date(2026, 3, 15)).interest_charged == 9_000  # the March one now falls due on the 20th


def test_a_freeze_still_running_keeps_pushing_the_deadlines() -> None:
    record = LoanRecord(SCHEDULE, loan_with((E.FREEZE, date(2026, 3, 1))).history)
    for day in (date(2026, 3, 10), date(2026, 5, 1), date(2026, 9, 30)):
        p = position(record, day)
        assert p.interest_charged == 9_000 and all(i.due_on > day for i in p.installments[1:])
    assert position(record, date(2026, 5, 1)).installments[1].due_on == date(2026, 5, 1) + timedelta(days=9)


def test_interest_falling_due_in_a_dispute_is_inactive_until_resolved() -> None:
    disputed = loan_with((E.OPEN_DISPUTE, date(2026, 3, 1)))
    p = position(LoanRecord(SCHEDULE, disputed.history), date(2026, 3, 20))
    assert [i.interest_state for i in p.installments] == [I.ACTIVE, I.INACTIVE, I.NOT_DUE]
    assert (p.interest_due, p.interest_inactive, p.interest_charged) == (9_000, 6_088, 15_088)
    assert p.payoff == 300_000 + 9_000
    disputed.apply(E.RESOLVE_DISPUTE, date(2026, 3, 25), AT)
    record = LoanRecord(SCHEDULE, disputed.history)
    assert position(record, date(2026, 3, 24)).interest_inactive == 6_088
    resolved = position(record, date(2026, 3, 25))
    assert (resolved.interest_due, resolved.interest_inactive) == (15_088, 0)


def test_a_dispute_ended_by_cancellation_voids_its_inactive_interest_and_what_was_not_due() -> None:
    loan = loan_with((E.OPEN_DISPUTE, date(2026, 3, 1)), (E.CANCEL, date(2026, 3, 20)))
    p = position(LoanRecord(SCHEDULE, loan.history), date(2026, 6, 1))
    assert [i.interest_state for i in p.installments] == [I.ACTIVE, I.VOID, I.VOID]
    assert [i.void for i in p.installments] == [False, False, True]
    assert p.principal_voided == SCHEDULE[2].principal
    assert p.principal_outstanding == SCHEDULE[0].principal + SCHEDULE[1].principal
    assert p.interest_due == 9_000 and p.interest_inactive == 0 and p.status == L.CANCELLED
    assert p.days_past_due == (date(2026, 3, 20) - FEB10).days  # counted until the cancellation only


def test_a_cancellation_voids_only_what_is_not_yet_due() -> None:
    loan = loan_with((E.CANCEL, MAR10))
    p = position(LoanRecord(SCHEDULE, loan.history), date(2026, 12, 31))
    assert [i.void for i in p.installments] == [False, False, True]  # due on the day: owed
    assert p.interest_charged == 15_088


def test_an_inactive_product_charges_no_interest_while_it_is_inactive() -> None:
    record = LoanRecord(SCHEDULE, product_inactive=(Period(date(2026, 3, 1), date(2026, 3, 31)),))
    p = position(record, date(2026, 12, 31))
    assert [i.interest_state for i in p.installments] == [I.ACTIVE, I.WAIVED, I.ACTIVE]
    assert p.interest_charged == 9_000 + 3_089


def test_principal_repaid_before_its_due_date_charges_no_interest() -> None:
    last = SCHEDULE[2]
    prepaid = AppliedPayment(1, last.principal, date(2026, 1, 20), (Allocation(3, 0, last.principal),))
    p = position(LoanRecord(SCHEDULE, payments=(prepaid,)), date(2026, 12, 31))
    assert [i.interest_state for i in p.installments] == [I.ACTIVE, I.ACTIVE, I.WAIVED]
    payoff = AppliedPayment(2, 300_000, date(2026, 1, 20), tuple(Allocation(i.number, 0, i.principal) for i in SCHEDULE))
    p = position(LoanRecord(SCHEDULE, payments=(payoff,)), date(2026, 12, 31))
    assert p.interest_charged == 0 and p.settled


def test_a_payment_reversed_before_the_due_date_leaves_the_interest_charged() -> None:
    last = SCHEDULE[2]
    reversed_early = AppliedPayment(1, last.principal, date(2026, 1, 20), (Allocation(3, 0, last.principal),),
                                    reversed_on=date(2026, 4, 9))
    p = position(LoanRecord(SCHEDULE, payments=(reversed_early,)), date(2026, 12, 31))
    assert p.installments[2].interest_state == I.ACTIVE and p.installments[2].principal_paid == 0
    before = position(LoanRecord(SCHEDULE, payments=(reversed_early,)), date(2026, 4, 8))
    assert before.installments[2].principal_paid == last.principal


def test_days_past_due_count_from_the_oldest_installment_with_something_payable() -> None:
    first = SCHEDULE[0]
    paid_first = AppliedPayment(1, first.amount, FEB10, (Allocation(1, first.interest, first.principal),))
    p = position(LoanRecord(SCHEDULE, payments=(paid_first,)), date(2026, 4, 1))
    assert p.days_past_due == (date(2026, 4, 1) - MAR10).days
    half = AppliedPayment(2, first.interest, FEB10, (Allocation(1, first.interest, 0),))
    assert position(LoanRecord(SCHEDULE, payments=(half,)), date(2026, 2, 25)).days_past_due == 15


def test_inactive_interest_alone_does_not_make_a_loan_late() -> None:
    loan = loan_with((E.OPEN_DISPUTE, date(2026, 1, 15)))
    first = SCHEDULE[0]
    payments = (AppliedPayment(1, first.principal, FEB10, (Allocation(1, 0, first.principal),)),)
    p = position(LoanRecord(SCHEDULE, loan.history, payments), date(2026, 2, 20))
    assert p.interest_inactive == 9_000 and p.days_past_due == 0


@pytest.mark.parametrize("days, bucket", [
    (0, Bucket.HEALTHY), (1, Bucket.DPD_1_15), (15, Bucket.DPD_1_15), (16, Bucket.DPD_16_30),
    (30, Bucket.DPD_16_30), (31, Bucket.DPD_31_60), (60, Bucket.DPD_31_60), (61, Bucket.DPD_61_90),
    (90, Bucket.DPD_61_90), (91, Bucket.DPD_90_PLUS), (4000, Bucket.DPD_90_PLUS),
])
def test_buckets(days: int, bucket: Bucket) -> None:
    assert bucket_of(days) == bucket
    assert bucket.value in {"healthy", "1-15", "16-30", "31-60", "61-90", "90+"}


def test_a_loan_signed_and_delivered_later_was_signed_before_its_delivery() -> None:
    loan = Loan(credit_id=1, status=L.SIGNED)
    loan.apply(E.DELIVER, date(2026, 1, 20), AT)
    record = LoanRecord(SCHEDULE, loan.history)
    assert position(record, date(2026, 1, 15)).status == L.SIGNED
    assert position(record, date(2026, 1, 20)).status == L.ACTIVE


def test_each_bucket_spans_the_days_bucket_of_puts_in_it() -> None:
    from domain.loan_balances import Bucket, bucket_of, days_in

    for bucket in Bucket:
        lower, upper = days_in(bucket)
        assert bucket_of(lower) == bucket_of(min(upper, 10_000)) == bucket
        assert lower == 0 or bucket_of(lower - 1) != bucket
    assert days_in(Bucket.DPD_16_30) == (16, 30)
