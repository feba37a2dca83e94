"""The scheduler's jobs with a FakeClock, through the outbox, RabbitMQ and the ledger actors:
one evaluation per store and period however often or from however many schedulers it runs,
missed periods caught up, the transfer rules, the monthly commission update and the sweeps."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest

from adapters.settings import Settings
from scheduler import jobs
from tests.conftest import FakeClock
from tests.integration.helpers import (
    Traffic, actor_failures, cancel, count, delivered_credits, enqueue, execute, extra_container, new_store, originate, rows, running_worker, scalar, settle, tiered_store,
)
from usecases import ledger, scheduling
from bootstrap import Container

pytestmark = pytest.mark.integration
EVALUATIONS = "SELECT period_key, outcome, reason, pending_total, due_at FROM trigger_evaluations " \
              "WHERE store_id = :s ORDER BY period_key"


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def evaluations(container: Container, store: int) -> list[Any]:
    return rows(container, EVALUATIONS, s=store)


def transfers(container: Container, store: int) -> list[Any]:
    return rows(container, "SELECT id, status, amount FROM bank_transfers WHERE store_id = :s ORDER BY id", s=store)


def pending_total(container: Container, store: int) -> int:
    return int(scalar(container, "SELECT COALESCE(SUM(amount), 0) FROM balance_updates WHERE store_id = :s "
                                 "AND status = 'pending'", s=store))


def test_daily_store_gets_one_evaluation_per_day(container: Container, traffic: Traffic, clock: FakeClock) -> None:
    store = new_store(container)  # daily at 00:00 America/Mexico_City (06:00 UTC), created 09:00 local
    for day in (1, 2, 3):
        delivered_credits(container, store, [100_000 * day], prefix=f"day{day}")
        settle(container, traffic)
        owed = pending_total(container, store)
        clock.now += timedelta(days=1)
        jobs.enqueue_due_triggers(container)
        jobs.enqueue_due_triggers(container)  # a second tick before the first is processed
        settle(container, traffic)
        assert jobs.enqueue_due_triggers(container) == 0, "the period is done: a later tick finds nothing due"
        assert count(container, "outbox", "actor_name = 'evaluate_trigger'") == day
        assert [t.amount for t in transfers(container, store)][-1] == owed
    assert [(e.period_key, e.outcome, e.due_at) for e in evaluations(container, store)] == [
        ("daily:2026-11-24", "transfer", datetime(2026, 11, 24, 6, 0)),
        ("daily:2026-11-25", "transfer", datetime(2026, 11, 25, 6, 0)),
        ("daily:2026-11-26", "transfer", datetime(2026, 11, 26, 6, 0)),
    ]
    assert len(transfers(container, store)) == 3
    assert actor_failures(container) == []


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same moment on its own thread; return results (or raised exceptions)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            results[i] = call()
        except BaseException as e:  # reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def enqueue_directly(c: Container) -> int:
    """The job's use case without the Redis lock: what a scheduler does when the lock fails."""
    with c.uow() as uow:
        n = scheduling.enqueue_due_triggers(uow, c.clock(), c.settings.scheduler_catch_up_limit)
        uow.commit()
    return n


def test_two_schedulers_at_once_enqueue_each_period_once(container: Container, traffic: Traffic,
                                                          clock: FakeClock, settings: Settings) -> None:
    stores = [new_store(container), new_store(container, disbursement_mode="hourly")]
    for store in stores:
        delivered_credits(container, store, [100_000], prefix=f"s{store}")
    settle(container, traffic)
    clock.now += timedelta(days=2)
    with extra_container(settings, container) as other:
        results = run_together(lambda: jobs.enqueue_due_triggers(container), lambda: jobs.enqueue_due_triggers(other),
                               lambda: enqueue_directly(container), lambda: enqueue_directly(other))
    assert not [r for r in results if isinstance(r, BaseException)], results
    expected = {stores[0]: 2, stores[1]: 48}  # two days of daily and hourly periods
    for store, n in expected.items():
        assert count(container, "outbox", "actor_name = 'evaluate_trigger' AND JSON_VALUE(args, '$[0]') = :s",
                     s=store) == n
    settle(container, traffic)
    for store, n in expected.items():
        assert len(evaluations(container, store)) == n
        assert len(transfers(container, store)) == 1
    assert actor_failures(container) == []


def test_missed_periods_are_caught_up(container: Container, traffic: Traffic, clock: FakeClock) -> None:
    store = new_store(container)
    delivered_credits(container, store, [100_000, 250_000])
    settle(container, traffic)
    owed = pending_total(container, store)
    clock.now += timedelta(days=3)  # the scheduler was down for three days
    assert jobs.enqueue_due_triggers(container) == 3
    settle(container, traffic)
    assert [e.period_key for e in evaluations(container, store)] == [
        "daily:2026-11-24", "daily:2026-11-25", "daily:2026-11-26"]
    [transfer] = transfers(container, store)
    assert (transfer.status, transfer.amount) == ("sending", owed), "the first evaluation pays everything"
    assert pending_total(container, store) == 0
    assert actor_failures(container) == []


def test_automation_off_never_pays(container: Container, traffic: Traffic, clock: FakeClock) -> None:
    store = new_store(container, automation_enabled=False)
    delivered_credits(container, store, [100_000])
    settle(container, traffic)
    clock.now += timedelta(days=2)
    assert jobs.enqueue_due_triggers(container) == 0
    enqueue(container, "evaluate_trigger", store, "daily:2026-11-24", None)  # e.g. left from before it was off
    settle(container, traffic)
    [evaluation] = evaluations(container, store)
    assert (evaluation.outcome, evaluation.reason) == ("skipped", "automation is off")
    assert transfers(container, store) == []


def test_pending_below_minimum_is_skipped_with_a_reason(container: Container, traffic: Traffic,
                                                         clock: FakeClock) -> None:
    store = new_store(container, minimum_transfer=200_000)
    delivered_credits(container, store, [100_000], prefix="small")
    settle(container, traffic)
    owed = pending_total(container, store)
    clock.now += timedelta(days=1)
    jobs.enqueue_due_triggers(container)
    settle(container, traffic)
    [evaluation] = evaluations(container, store)
    assert (evaluation.outcome, evaluation.pending_total) == ("skipped", owed)
    assert evaluation.reason == f"pending total {owed} is below the minimum 200000"
    assert transfers(container, store) == []
    delivered_credits(container, store, [150_000], prefix="more")  # now the pending total reaches it
    settle(container, traffic)
    owed = pending_total(container, store)
    assert owed >= 200_000
    clock.now += timedelta(days=1)
    jobs.enqueue_due_triggers(container)
    settle(container, traffic)
    assert [e.outcome for e in evaluations(container, store)] == ["skipped", "transfer"]
    assert [t.amount for t in transfers(container, store)] == [owed]


def test_zero_or_negative_pending_never_pays(container: Container, traffic: Traffic, clock: FakeClock) -> None:
    empty = new_store(container)
    owing = new_store(container)
    delivered_credits(container, owing, [100_000])
    settle(container, traffic)
    with container.uow() as uow:  # treasury claws back more than the store is owed
        ledger.adjust(uow, owing, -(pending_total(container, owing) + 5_000), admin_id=1, note="chargeback")
        uow.commit()
    assert pending_total(container, owing) == -5_000
    clock.now += timedelta(days=1)
    jobs.enqueue_due_triggers(container)
    with container.uow() as uow:  # even a transfer treasury asks for by hand
        ledger.request_transfer(uow, owing)
        uow.commit()
    settle(container, traffic)
    reason = "nothing to pay: pending total is zero or negative"
    assert [(e.outcome, e.reason, e.pending_total) for e in evaluations(container, empty)] == [("skipped", reason, 0)]
    assert [(e.outcome, e.reason, e.pending_total) for e in evaluations(container, owing)] == [
        ("skipped", reason, -5_000), ("skipped", reason, -5_000)]  # the day's period, then treasury's request
    assert count(container, "bank_transfers") == 0
    assert count(container, "event_log", "kind = 'trigger_evaluated' AND store_id = :s", s=owing) == 1


def test_monthly_commission_job_updates_auto_updatable_options_once(container: Container, traffic: Traffic,
                                                                    clock: FakeClock) -> None:
    merchant, store = tiered_store(container, [{"min_origination": 0, "commission_rate": "0.045"},
                                               {"min_origination": 1_000_000, "commission_rate": "0.03"}])
    untiered = new_store(container)
    originate(container, store, "nov-1", 800_000)
    originate(container, store, "nov-2", 800_000)
    cancelled = originate(container, store, "nov-3", 5_000_000)
    cancel(container, cancelled, "rejected")  # cancelled credits do not count as origination
    clock.now = datetime(2026, 10, 20, 12, 0, tzinfo=timezone.utc)
    originate(container, store, "oct-1", 9_000_000)  # another month
    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # 02:00 in Mexico City, the job's hour

    assert jobs.monthly_commissions(container) == 1, "only merchants with tiers are updated"
    settle(container, traffic)
    options = {r.number_of_payments: r for r in rows(
        container, "SELECT number_of_payments, merchant_commission, validated FROM payment_options "
                   "WHERE store_id = :s", s=store)}
    assert Decimal(options[3].merchant_commission) == Decimal("0.03"), "auto-updatable: last month's tier"
    assert Decimal(options[6].merchant_commission) == Decimal("0.05"), "not auto-updatable: unchanged"
    assert all(o.validated for o in options.values())
    assert {Decimal(r[0]) for r in rows(container, "SELECT merchant_commission FROM payment_options "
                                                   "WHERE store_id = :s", s=untiered)} == {Decimal("0.05")}
    [update] = rows(container, "SELECT merchant_id, month, origination, options_updated FROM commission_updates")
    assert tuple(update) == (merchant, "2026-11", 1_600_000, 1)

    jobs.monthly_commissions(container)  # a second run (or a second scheduler) that month
    settle(container, traffic)
    assert count(container, "outbox", "actor_name = 'update_monthly_commissions'") == 1
    assert count(container, "commission_updates") == 1
    assert actor_failures(container) == []


def test_sweep_redrives_work_whose_message_was_lost(container: Container, traffic: Traffic,
                                                    clock: FakeClock) -> None:
    stuck = container.settings.stuck_after_minutes
    store = new_store(container)
    [lost, kept] = delivered_credits(container, store, [100_000, 120_000])
    execute(container, "DELETE FROM outbox WHERE actor_name = 'contribute' AND JSON_VALUE(args, '$[0]') = :c",
            c=lost)  # the message is lost before it was published
    settle(container, traffic)
    assert count(container, "balance_updates", "credit_id = :c", c=lost) == 0
    assert jobs.sweep_stuck_work(container)["contributions"] == 0, "not stuck yet"

    clock.now += timedelta(minutes=stuck + 1)
    assert jobs.sweep_stuck_work(container)["contributions"] == 1
    settle(container, traffic)
    assert count(container, "balance_updates", "type = 'contribution'") == 2

    cancel(container, kept)
    execute(container, "DELETE FROM outbox WHERE actor_name = 'cancel_credit'")
    settle(container, traffic)
    clock.now += timedelta(minutes=stuck + 1)
    found = jobs.sweep_stuck_work(container)
    assert (found["contributions"], found["cancellations"]) == (0, 1)
    settle(container, traffic)
    assert count(container, "balance_updates", "type = 'credit_cancellation' AND credit_id = :c", c=kept) == 1

    clock.now += timedelta(hours=1)
    found = jobs.sweep_stuck_work(container)
    assert (found["contributions"], found["cancellations"]) == (0, 0), "nothing is left to re-drive"
    assert actor_failures(container) == []
