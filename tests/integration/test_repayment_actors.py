"""The apply_repayment actor through the real broker: the relay publishes the outbox to RabbitMQ's ``loans``
queue, an in-process dramatiq worker applies the repayment against MariaDB. A redelivered or duplicated
message changes nothing; a repayment the loan can no longer take is rejected with the reason."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from dramatiq import Message

from bootstrap import Container
from domain.customers import CustomerEvent
from tests.integration.helpers import Traffic, actor_failures, count, outbox_message, rows, running_worker, settle
from tests.loan_factories import active_loan
from usecases import repayments

pytestmark = pytest.mark.integration

LOANS = "loans"


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    container.broker.add_middleware(Traffic(frozenset({"ledger", LOANS})))  # running_worker consumes its queues
    with running_worker(container) as t:
        yield t


def recorded(container: Container, amount: int, external_id: str = "pay-1") -> tuple[int, int]:
    """A new loan and a payment to it, pending with its step in the outbox: (loan id, repayment id)."""
    with container.uow() as uow:
        loan = active_loan(uow)
        repayment, _ = repayments.record(uow, {"external_id": external_id, "loan_id": loan.id, "amount": amount,
                                               "channel": "automatic"})
        uow.commit()
        assert loan.id is not None and repayment.id is not None
        return loan.id, repayment.id


def books(container: Container) -> dict[str, Any]:
    """What applying a repayment writes."""
    return {"repayments": rows(container, "SELECT id, status, payment_status, accepted_on FROM repayments ORDER BY id"),
            "allocations": rows(container, "SELECT * FROM repayment_allocations ORDER BY id"),
            "history": rows(container, "SELECT id, to_status FROM repayment_status_history ORDER BY id"),
            "installments": rows(container, "SELECT credit_id, number, principal_paid, interest_paid, due_on "
                                            "FROM loan_installments ORDER BY id"),
            "loans": rows(container, "SELECT id, status, days_past_due FROM credits ORDER BY id"),
            "moves": rows(container, "SELECT id FROM loan_status_history ORDER BY id")}


def test_the_step_applies_a_payment_once_whatever_the_broker_redelivers(container: Container,
                                                                        traffic: Traffic) -> None:
    loan, repayment = recorded(container, 300_000)
    assert count(container, "repayment_allocations") == 0, "nothing may happen before the relay publishes"
    settle(container, traffic)
    assert rows(container, "SELECT status, payment_status FROM repayments WHERE id = :r", r=repayment) == [
        ("completed", "accepted")]
    assert rows(container, "SELECT status FROM credits WHERE id = :c", c=loan) == [("paid",)]
    assert count(container, "repayment_allocations", "repayment_id = :r", r=repayment) == 3
    before = books(container)
    message_id, args = outbox_message(container, "apply_repayment")
    redelivered: Message[Any] = Message(queue_name=LOANS, actor_name="apply_repayment", args=tuple(args), kwargs={},
                                        options={}, message_id=message_id)
    duplicated: Message[Any] = Message(queue_name=LOANS, actor_name="apply_repayment", args=tuple(args), kwargs={},
                                       options={})
    for message in (redelivered, duplicated):  # the broker redelivers the same message, then a copy with a new id
        container.broker.enqueue(message)
        settle(container, traffic)
        assert books(container) == before
    assert traffic.published_actors["apply_repayment"] == 3
    assert actor_failures(container) == []


def test_the_step_rejects_what_the_customer_may_no_longer_pay(container: Container, traffic: Traffic) -> None:
    loan, repayment = recorded(container, 10_000)
    with container.uow() as uow:
        customer = uow.customers.lock(uow.credits.get(loan).customer_id or 0)
        customer.move(CustomerEvent.BLOCK, uow.clock(), "fraud suspected")
        uow.customers.save(customer)
        uow.commit()
    settle(container, traffic)
    [(status, rejection)] = rows(container, "SELECT status, rejection FROM repayments WHERE id = :r", r=repayment)
    assert status == "rejected" and "blocked" in rejection
    assert count(container, "repayment_allocations") == 0
    assert count(container, "event_log", "kind = 'repayment_rejected'") == 1
    assert actor_failures(container) == []
