"""The outbox and its relay on MariaDB + RabbitMQ: nothing committed is lost when a process dies
between commit and publish, a relay that dies after publishing republishes (and the actors'
idempotency keeps the books right), several relays share the outbox, and dedupe keys make a
second send a no-op."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

import adapters.relay
from adapters.settings import Settings
from tests.integration.helpers import (
    Traffic, actor_failures, count, deliver, delivered_credits, extra_container, new_store,
    originate, outbox_message, rows, running_worker, settle, unpublished, wait_until,
)
from usecases import steps
from bootstrap import Container, relay as relay_of

pytestmark = pytest.mark.integration


def contributions_per_credit(container: Container) -> dict[int, int]:
    return {r.credit_id: r.n for r in rows(container, "SELECT credit_id, COUNT(*) AS n FROM balance_updates "
                                                      "WHERE type = 'contribution' GROUP BY credit_id")}


def test_crash_between_commit_and_publish_loses_nothing(container: Container, settings: Settings) -> None:
    store = new_store(container)
    credits = delivered_credits(container, store, [100_000, 200_000])
    assert unpublished(container) == 2
    # The process dies here: committed, never published. A new process (new container, broker
    # connection, relay and worker) finds the rows and publishes them.
    with extra_container(settings, container) as restarted, running_worker(restarted) as traffic:
        settle(restarted, traffic)
    assert contributions_per_credit(container) == {c: 1 for c in credits}
    assert unpublished(container) == 0


def test_broker_failure_during_publish_keeps_the_row(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    store = new_store(container)
    [credit] = delivered_credits(container, store, [100_000])

    def broker_down(*_: Any, **__: Any) -> None:
        raise ConnectionError("RabbitMQ went away")

    with running_worker(container) as traffic:
        with monkeypatch.context() as patch:
            patch.setattr(container.broker, "enqueue", broker_down)
            with pytest.raises(ConnectionError):
                relay_of(container).publish_batch()
        assert unpublished(container) == 1, "a row whose publish failed must stay unpublished"
        settle(container, traffic)
    assert contributions_per_credit(container) == {credit: 1}


def test_relay_crash_after_publish_republishes_and_books_once(container: Container,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store = new_store(container)
    [credit] = delivered_credits(container, store, [100_000])
    message_id, _ = outbox_message(container, "contribute")
    real_mark = adapters.relay.mark_published
    crashes: list[list[int]] = []

    def crash_once(session: Any, ids: list[int], at: Any) -> None:
        if not crashes:
            crashes.append(ids)
            raise RuntimeError("relay killed after publishing, before marking")
        real_mark(session, ids, at)

    monkeypatch.setattr(adapters.relay, "mark_published", crash_once)
    with running_worker(container) as traffic:
        with pytest.raises(RuntimeError):
            relay_of(container).publish_batch()
        assert unpublished(container) == 1, "the mark was rolled back with the crash"
        wait_until(lambda: count(container, "balance_updates") == 1, 20, "the first copy to be processed")
        settle(container, traffic)  # a restarted relay publishes the row again
        assert traffic.enqueued[message_id] == 2, "the row must have been published twice"
    assert contributions_per_credit(container) == {credit: 1}
    assert unpublished(container) == 0
    assert actor_failures(container) == []


def test_two_relays_publish_every_row_once(container: Container, settings: Settings) -> None:
    stores = [new_store(container), new_store(container)]
    credits = [c for i, s in enumerate(stores)
               for c in delivered_credits(container, s, [10_000 + n for n in range(40)], prefix=f"r{i}")]
    expected = {r.message_id for r in rows(container, "SELECT message_id FROM outbox")}
    assert len(expected) == 80
    small_batches = settings.model_copy(update={"relay_batch_size": 5})
    traffic = Traffic()
    container.broker.add_middleware(traffic)
    published: dict[str, int | BaseException] = {}
    start = threading.Barrier(2)

    def drain(name: str, relay_container: Container) -> None:
        try:
            start.wait(timeout=10)
            published[name] = relay_of(relay_container).drain()
        except BaseException as e:  # reported by the assertions below
            published[name] = e

    with extra_container(small_batches, container) as a, extra_container(small_batches, container) as b, \
            running_worker(container):
        a.broker.add_middleware(traffic)
        b.broker.add_middleware(traffic)
        threads = [threading.Thread(target=drain, args=(n, c)) for n, c in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert all(isinstance(n, int) for n in published.values()), published
        assert sum(published.values()) == 80  # type: ignore[arg-type]
        assert set(traffic.enqueued) == expected, "every outbox row must be published"
        assert set(traffic.enqueued.values()) == {1}, "SKIP LOCKED: no row is published by both relays"
        assert unpublished(container) == 0
        settle(container, traffic)
    assert contributions_per_credit(container) == {c: 1 for c in credits}
    assert actor_failures(container) == []


def test_a_steps_business_key_makes_a_second_send_a_no_op(container: Container) -> None:
    with container.uow() as uow:
        uow.outbox.send(steps.EVALUATE_TRIGGER, 1, "daily:2026-11-24", None)
        uow.outbox.send(steps.EVALUATE_TRIGGER, 1, "daily:2026-11-24", None)
        uow.commit()
    with container.uow() as uow:
        uow.outbox.send(steps.EVALUATE_TRIGGER, 1, "daily:2026-11-24", None)
        uow.commit()
    assert count(container, "outbox", "dedupe_key = 'evaluate_trigger:1:daily:2026-11-24'") == 1
    with container.uow() as uow:  # another period, and the same one sent again on another occasion
        uow.outbox.send(steps.EVALUATE_TRIGGER, 1, "daily:2026-11-25", None)
        uow.outbox.send(steps.EVALUATE_TRIGGER, 1, "daily:2026-11-24", None, again="sweep-20261124T10")
        uow.outbox.send(steps.EVALUATE_TRIGGER, 1, "daily:2026-11-24", "2026-11-24T06:00:00+00:00",
                        again="sweep-20261124T10")  # a different due time is not a different period
        uow.commit()
    assert count(container, "outbox") == 3


def test_the_business_key_holds_under_concurrent_transactions(container: Container) -> None:
    """Two transactions (two schedulers) send the same key at once: one row, and neither fails."""
    both_open = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with container.uow() as uow:
                uow.session.execute(text("SELECT 1"))  # both transactions are open before either sends
                both_open.wait(timeout=5)
                uow.outbox.send(steps.CONTRIBUTE, 7)
                uow.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert count(container, "outbox", "dedupe_key = 'contribute:7'") == 1


def test_delivering_twice_records_one_message(container: Container) -> None:
    store = new_store(container)
    credit = originate(container, store, "twice", 100_000)
    deliver(container, credit)
    deliver(container, credit)
    assert count(container, "outbox", "actor_name = 'contribute'") == 1
