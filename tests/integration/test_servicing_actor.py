"""The daily servicing through the real pieces: the scheduler's job writes one SERVICE_LOANS per slice to the
outbox, the relay publishes them to RabbitMQ's ``loans`` queue, a dramatiq worker runs each against MariaDB.
A slice is serviced once per day however often its message comes; missed days are caught up; a slice that
keeps failing dead-letters with an ALERT."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterator

import pytest
from dramatiq import Message

from bootstrap import Container
from domain.customers import CustomerStatus
from scheduler import jobs
from tests.conftest import FakeClock
from tests.integration.helpers import (
    Traffic, count, rows, running_worker, scalar, settle, wait_until,
)
from tests.servicing_factories import new_customer, new_loan, sql_shop, sql_tx

pytestmark = pytest.mark.integration
SIGNED = date(2026, 9, 1)  # the test clock's business day is 2026-11-23: the loans are late by then


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    container.broker.add_middleware(Traffic(frozenset({"loans"})))  # found first by running_worker
    with running_worker(container) as t:
        yield t


def enqueue(container: Container, *args: Any) -> None:
    """A SERVICE_LOANS message straight onto the loans queue: a duplicate, or one the relay never sent."""
    container.broker.enqueue(Message(queue_name="loans", actor_name="service_loans", args=args, kwargs={},
                                     options={}))


def loans_of(container: Container, customers: int, per_customer: int) -> list[int]:
    tx = sql_tx(container)
    shop = sql_shop(container)
    ids = []
    for _ in range(customers):
        customer = tx(lambda uow: new_customer(uow))
        ids += [tx(lambda uow: new_loan(uow, shop, customer, SIGNED, payments=6).id) for _ in range(per_customer)]
    return ids


def test_the_daily_job_services_every_slice_once(container: Container, traffic: Traffic) -> None:
    container.settings.servicing_slice_size = 2
    loans = loans_of(container, customers=3, per_customer=2)

    assert jobs.daily_loan_servicing(container) == 3  # credits 1-6 in slices of 2, for 2026-11-22
    assert jobs.daily_loan_servicing(container) == 0  # sent already
    settle(container, traffic)

    serviced = rows(container, "SELECT serviced_on, days_past_due FROM credits ORDER BY id")
    assert {(r.serviced_on, r.days_past_due) for r in serviced} == {(date(2026, 11, 22), 52)}  # due 2026-10-01
    assert len(serviced) == len(loans)
    assert [r.slice for r in rows(container, "SELECT slice FROM loan_servicing_runs ORDER BY slice")] == [0, 1, 2]
    assert count(container, "customers", "status = 'disabled'") == 3
    assert count(container, "customer_status_history", "event = 'fell_past_due'") == 3

    enqueue(container, "2026-11-22", 1, 2)  # a redelivered message
    settle(container, traffic)
    assert count(container, "loan_servicing_runs") == 3
    assert count(container, "customer_status_history") == 3


def test_missed_days_are_caught_up(container: Container, traffic: Traffic, clock: FakeClock) -> None:
    loans_of(container, customers=1, per_customer=2)
    jobs.daily_loan_servicing(container)
    settle(container, traffic)
    clock.now += timedelta(days=4)  # the scheduler was down three nights

    assert jobs.daily_loan_servicing(container) == 4  # 2026-11-23 … 2026-11-26, one slice each
    settle(container, traffic)

    assert [r.as_of for r in rows(container, "SELECT as_of FROM loan_servicing_runs ORDER BY as_of")] == [
        date(2026, 11, 22) + timedelta(days=n) for n in range(5)]
    assert {r.days_past_due for r in rows(container, "SELECT days_past_due FROM credits")} == {56}
    assert scalar(container, "SELECT status FROM customers") == CustomerStatus.DISABLED.value


def test_a_slice_that_keeps_failing_dead_letters_with_an_alert(container: Container, traffic: Traffic) -> None:
    enqueue(container, "2026-11-22", 0, 0)  # a slice of no size: refused on every attempt

    wait_until(lambda: count(container, "dead_letters") == 1, 30, "the failing slice dead-lettered")
    assert count(container, "event_log", "kind = 'dead_letter' AND level = 'ALERT'") == 1
    assert count(container, "loan_servicing_runs") == 0
