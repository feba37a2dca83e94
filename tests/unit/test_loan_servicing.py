"""The servicing run's use cases on the fake unit of work (whose servicing runs the domain loan by loan):
a slice once per day, the day's slices and the missed days sent once, the book check finding what is
planted; and the slices' arithmetic."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from domain.customers import CustomerStatus
from domain.loan_servicing import slice_bounds, slices_up_to
from tests.fake_uow import FakeUnitOfWork
from tests.servicing_factories import Shop, new_customer, new_loan
from usecases import loan_servicing, steps
from usecases.verify_loans import verify_loans

SHOP = Shop(1, 1, 1, 1)
SIGNED = date(2026, 9, 1)


def a_book(loans: int = 3) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(clock=lambda: datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc))
    customer = new_customer(uow)
    for _ in range(loans):
        new_loan(uow, SHOP, customer, SIGNED)
    return uow


def test_slices_are_consecutive_id_ranges() -> None:
    assert slice_bounds(0, 100) == (1, 100) and slice_bounds(2, 100) == (201, 300)
    assert list(slices_up_to(0, 100)) == [] and list(slices_up_to(100, 100)) == [0]
    assert list(slices_up_to(101, 100)) == [0, 1]


def test_a_slice_runs_once_a_day_and_disables_a_customer_past_the_threshold() -> None:
    uow = a_book()
    first = loan_servicing.service_slice(uow, date(2026, 11, 22), 0, 2, 30)
    assert first is not None and (first.done.loans, first.done.late, first.customers_moved) == (2, 2, 1)
    assert loan_servicing.service_slice(uow, date(2026, 11, 22), 0, 2, 30) is None
    assert uow.customers.get(1).status == CustomerStatus.DISABLED
    assert [c.days_past_due for c in uow.credits.all()] == [52, 52, 0]  # the third is in slice 1
    assert "loans_serviced" in uow.kinds()


def test_the_days_slices_and_the_missed_days_are_sent_once() -> None:
    uow = a_book(loans=5)
    assert loan_servicing.servicing_day(uow) == date(2026, 11, 22)
    assert loan_servicing.enqueue_servicing(uow, date(2026, 11, 22), 2, 10) == 3
    assert loan_servicing.enqueue_servicing(uow, date(2026, 11, 22), 2, 10) == 0
    loan_servicing.service_slice(uow, date(2026, 11, 22), 0, 2, 30)
    assert loan_servicing.enqueue_servicing(uow, date(2026, 11, 25), 2, 10) == 9  # the 23rd, 24th and 25th
    days = sorted({args[0] for args in uow.outbox.to(steps.SERVICE_LOANS)})
    assert days == ["2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"]
    assert loan_servicing.enqueue_servicing(uow, date(2026, 12, 31), 2, 3) == 12  # no more than 3 days back


def test_the_book_check_passes_then_reports_what_is_planted() -> None:
    uow = a_book()
    for number in range(2):
        loan_servicing.service_slice(uow, date(2026, 11, 22), number, 2, 30)
    assert verify_loans(lambda: uow, date(2026, 11, 25)).violations == []
    uow.credits.get(2).days_past_due += 1
    report = verify_loans(lambda: uow, date(2026, 11, 25))
    assert report.loans == 3 and report.violations == ["loan 2: 53 days past due stored, 52 as of 2026-11-22"]
    assert report.summary() == "3 loans as of 2026-11-25, 1 violations"
