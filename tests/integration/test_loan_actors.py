"""The loans queue's step through the real broker: the relay publishes an outbox row to RabbitMQ, an in-process
dramatiq worker moves the loan against MariaDB, once per move key however often the message comes; a move
the loan's status refuses dies as a dead letter."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

import pytest
from dramatiq import Message

from bootstrap import Container
from domain.customers import with_check_digit
from tests.factories import validated_store
from tests.integration.helpers import Traffic, actor_failures, count, rows, running_worker, scalar, settle
from usecases import credits, customers, loan_requests, steps

pytestmark = pytest.mark.integration


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    container.broker.add_middleware(Traffic(frozenset({"ledger", "loans"})))
    with running_worker(container) as t:
        yield t


def delivered_loan(container: Container) -> int:
    """A loan signed for an enabled customer and delivered, by the use cases themselves."""
    with container.uow() as uow:
        store_id = validated_store(uow, options=(3,))
        uow.options.get(uow.stores.get(store_id).options[0].id or 0).a0_interest_rate = Decimal("0.30")
        who = customers.create_customer(uow, {
            "external_id": "act-cust", "first_name": "Itzel", "last_name": "Cuevas", "phone": "+525512345678",
            "email": "itzel@correo.example", "address": "Av. Juarez 10", "national_id":
                with_check_digit("CURI900101MPLVMT0")})
        customers.score_customer(uow, who.id or 0, "A0")
        made = loan_requests.request_loan(uow, who.id or 0, store_id, "act-loan", 300_000, 3)
        loan_id = loan_requests.complete(uow, made.request.id or 0).request.credit_id or 0
        credits.deliver(uow, loan_id)
        uow.commit()
    return loan_id


def send_move(container: Container, *args: object) -> None:
    with container.uow() as uow:
        uow.outbox.send(steps.MOVE_LOAN, *args)
        uow.commit()


def test_a_move_step_moves_the_loan_once_per_key(container: Container, traffic: Traffic) -> None:
    loan_id = delivered_loan(container)
    send_move(container, loan_id, "freeze", None, "upload-1:row-1")
    settle(container, traffic)
    assert scalar(container, "SELECT status FROM credits WHERE id = :c", c=loan_id) == "frozen"
    duplicate = Message(queue_name="loans", actor_name="move_loan", args=(loan_id, "freeze", None, "upload-1:row-1"),
                        kwargs={}, options={})
    container.broker.enqueue(duplicate)  # another message with the same key: a file row sent twice
    settle(container, traffic)
    history = rows(container, "SELECT event, actor, move_key FROM loan_status_history WHERE credit_id = :c "
                              "ORDER BY id", c=loan_id)
    assert [tuple(h) for h in history] == [("deliver", None, None), ("freeze", "step move_loan", "upload-1:row-1")]
    assert count(container, "event_log", "kind = 'loan_status_changed'") == 2
    assert scalar(container, "SELECT contribution > 0 FROM credits WHERE id = :c", c=loan_id)
    assert count(container, "balance_updates", "credit_id = :c", c=loan_id) == 1  # the contribution, once
    assert actor_failures(container) == []


def test_a_move_the_status_refuses_dies_as_a_dead_letter(container: Container, traffic: Traffic) -> None:
    loan_id = delivered_loan(container)
    send_move(container, loan_id, "resolve_dispute", None, "upload-2:row-1")
    settle(container, traffic)
    assert scalar(container, "SELECT status FROM credits WHERE id = :c", c=loan_id) == "active"
    assert count(container, "loan_status_history", "move_key IS NOT NULL") == 0
    dead = rows(container, "SELECT actor_name, queue_name FROM dead_letters")
    assert [tuple(d) for d in dead] == [("move_loan", "loans")]
