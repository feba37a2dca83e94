"""Evaluations are never "lost" and never re-fired stale; missed periods and lock waits are recovered;
a step that can never succeed is dead-lettered at once, with an alert. On MariaDB, RabbitMQ and Redis."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, text

from domain.ledger import MAX_BALANCE
from scheduler import jobs
from tests.conftest import FakeClock
from tests.integration.helpers import (
    Traffic, actor_failures, count, delivered_credits, execute, new_store, rows, running_worker, scalar, settle,
)
from usecases import catalog, ledger, scheduling
from domain.access import Role
from bootstrap import Container, build_container

pytestmark = pytest.mark.integration
STUCK = timedelta(minutes=15)


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def evaluations(container: Container, store: int) -> list[Any]:
    return rows(container, "SELECT period_key, outcome, reason, bank_transfer_id FROM trigger_evaluations "
                           "WHERE store_id = :s ORDER BY id", s=store)


def transfer_count(container: Container, store: int) -> int:
    return count(container, "bank_transfers", "store_id = :s", s=store)


def sweep(container: Container, clock: FakeClock) -> dict[str, int]:
    with container.uow() as uow:
        found = scheduling.sweep_stuck_work(uow, clock(), STUCK)
        found["missed_periods"] = scheduling.sweep_missed_periods(uow, clock(), STUCK, 48)
        uow.commit()
    return found


def test_racing_instant_evaluations_make_one_transfer_and_the_other_says_why(
        container: Container, traffic: Traffic, clock: FakeClock) -> None:
    """Two contributions land before either evaluation runs: one transfer takes both; the other
    evaluation records why it paid nothing, and no sweep ever fires it again."""
    store = new_store(container, disbursement_mode="instant")
    credits = delivered_credits(container, store, [100_000, 200_000])
    with container.uow() as uow:  # both contributions written before either evaluation runs
        for credit in credits:
            ledger.contribute(uow, credit)
        uow.commit()
    settle(container, traffic)
    assert transfer_count(container, store) == 1
    outcomes = sorted((e.outcome, e.reason, e.bank_transfer_id is not None) for e in evaluations(container, store))
    assert outcomes == [("skipped", "nothing to pay: pending total is zero or negative", False),
                        ("transfer", "pending total reaches the minimum", True)]
    for _ in range(3):
        clock.now += timedelta(hours=1)
        assert sweep(container, clock)["transfer_requests"] == 0
        settle(container, traffic)
    assert count(container, "outbox", "actor_name = 'create_transfer'") == 0
    assert transfer_count(container, store) == 1


def test_a_stale_evaluation_does_not_pay_a_store_that_changed_mode(
        container: Container, traffic: Traffic, clock: FakeClock) -> None:
    store = new_store(container, disbursement_mode="instant")
    [credit] = delivered_credits(container, store, [100_000])
    with container.uow() as uow:  # the contribution is written; its instant evaluation is queued, not run
        ledger.contribute(uow, credit)
        uow.commit()
    with container.uow() as uow:  # treasury switches the store to weekly and validates it again
        catalog.update_store(uow, store, {"disbursement_mode": "weekly", "weekday": 4}, Role.ADMIN)
        catalog.validate_store(uow, store)
        uow.commit()
    settle(container, traffic)
    [evaluation] = evaluations(container, store)
    assert evaluation.outcome == "skipped"
    assert evaluation.reason.startswith("the store is weekly now: instant:bu-")
    assert transfer_count(container, store) == 0


def test_a_dead_lettered_period_is_found_by_the_sweep_and_evaluated(
        container: Container, traffic: Traffic, clock: FakeClock) -> None:
    store = new_store(container)  # daily at midnight, Mexico City
    delivered_credits(container, store, [100_000])
    settle(container, traffic)
    clock.now += timedelta(days=1)
    assert jobs.enqueue_due_triggers(container) == 1
    # Published, then dead-lettered: the outbox row stays (and with it the dedupe key), the message is gone.
    execute(container, "UPDATE outbox SET published_at = created_at WHERE actor_name = 'evaluate_trigger'")
    assert jobs.enqueue_due_triggers(container) == 0  # the scheduler's own message is deduplicated
    clock.now += STUCK + timedelta(minutes=1)
    assert sweep(container, clock)["missed_periods"] == 1
    settle(container, traffic)
    [evaluation] = evaluations(container, store)
    assert evaluation.outcome == "transfer" and transfer_count(container, store) == 1
    clock.now += timedelta(hours=1)
    assert sweep(container, clock)["missed_periods"] == 0  # evaluated: nothing missed any more
    warnings = rows(container, "SELECT message FROM event_log WHERE kind = 'sweep' AND level = 'WARNING'")
    assert any("due periods had no evaluation" in w.message for w in warnings)


def hold_store_lock(db_url: str, store: int, seconds: float) -> threading.Thread:
    """Another transaction keeps the store's row locked for ``seconds``."""
    locked = threading.Event()

    def hold() -> None:
        engine = create_engine(db_url)
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT id FROM stores WHERE id = :s FOR UPDATE"), {"s": store})
            locked.set()
            time.sleep(seconds)
        engine.dispose()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert locked.wait(10)
    return thread


def test_lock_waits_are_retried_until_the_lock_is_free_not_dead_lettered(settings, clock: FakeClock) -> None:
    """A statement gives up after 1 s of waiting; the store stays locked for 6 s. With two retries
    allowed, a lock wait counted as a failure would be dead-lettered; it is retried instead."""
    container = build_container(settings.model_copy(update={"db_lock_wait_seconds": 1, "max_retries": 2}),
                                clock=clock)
    container.broker.flush_all()
    try:
        store = new_store(container)
        delivered_credits(container, store, [100_000])
        with running_worker(container) as traffic:
            settle(container, traffic)
            clock.now += timedelta(days=1)
            assert jobs.enqueue_due_triggers(container) == 1
            holder = hold_store_lock(settings.database_url, store, 6)
            settle(container, traffic, timeout=60)
            holder.join()
        [evaluation] = evaluations(container, store)
        assert evaluation.outcome == "transfer"
        assert count(container, "event_log", "kind = 'dead_letter'") == 0
        assert count(container, "event_log", "kind = 'actor_lock_wait'") >= 1
        assert actor_failures(container) == []
    finally:
        container.broker.flush_all()
        container.broker.close()
        container.engine.dispose()


def test_a_step_that_can_never_succeed_is_dead_lettered_at_once_with_an_alert(
        container: Container, traffic: Traffic) -> None:
    store = new_store(container)
    [credit] = delivered_credits(container, store, [100_000])
    with container.uow() as uow:  # treasury's adjustments took the balance to the bound, just before
        ledger.adjust(uow, store, MAX_BALANCE - 1, admin_id=1, note="to the bound")
        uow.commit()
    settle(container, traffic)  # the contribution would take the balance past the bound: refused for good
    assert count(container, "balance_updates", "credit_id = :c", c=credit) == 0
    assert len(actor_failures(container)) == 1, "not retried: it can never succeed"
    [alert] = rows(container, "SELECT level, message, details FROM event_log WHERE kind = 'dead_letter'")
    assert alert.level == "ALERT" and "contribute" in alert.message and "ledger.XQ" in alert.message
    assert int(scalar(container, "SELECT balance FROM stores WHERE id = :s", s=store)) == MAX_BALANCE - 1
