"""The periodic jobs. Each writes outbox rows in one transaction; the steps' business keys make reruns no-ops."""
from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import Callable, TypeVar

from adapters.locks import held
from usecases import bulk_sweeps, commissions, loan_servicing, scheduling, tracking
from domain.stp import operation_date
from bootstrap import Container

log = logging.getLogger("dispersa.scheduler")
T = TypeVar("T")


def _one_scheduler(job: Callable[[Container], T]) -> Callable[[Container], T | None]:
    """Run the job in one scheduler at a time (Redis lock). Were the lock to fail, the outbox
    dedupe keys still keep a second run from doubling anything."""

    @functools.wraps(job)
    def run(container: Container) -> T | None:
        if not container.settings.redis_url:  # the embedded stack has one scheduler and no Redis
            return job(container)
        with held(container.redis, f"scheduler:{job.__name__}", ttl_seconds=55) as got:
            return job(container) if got else None

    return run


@_one_scheduler
def enqueue_due_triggers(container: Container) -> int:
    with container.uow() as uow:
        n = scheduling.enqueue_due_triggers(uow, container.clock(), container.settings.scheduler_catch_up_limit)
        uow.commit()
    if n:
        log.info("enqueued %d trigger evaluations", n)
    return n


@_one_scheduler
def sweep_stuck_work(container: Container) -> dict[str, int]:
    s = container.settings
    with container.uow() as uow:
        now = container.clock()
        found = scheduling.sweep_stuck_work(uow, now, timedelta(minutes=s.stuck_after_minutes))
        found["missed_periods"] = scheduling.sweep_missed_periods(
            uow, now, timedelta(minutes=s.stuck_after_minutes), s.scheduler_catch_up_limit)
        found.update(scheduling.sweep_payment_orders(
            uow, now, timedelta(minutes=s.stuck_after_minutes), timedelta(minutes=s.callback_after_minutes),
            timedelta(minutes=s.unmatched_event_deadline_minutes)))
        found.update(bulk_sweeps.sweep_batches(uow, now, timedelta(minutes=s.stuck_after_minutes)))
        found.update(bulk_sweeps.sweep_remote_rows(uow, now, timedelta(minutes=s.callback_after_minutes),
                                                   timedelta(minutes=s.unmatched_event_deadline_minutes)))
        found["events_unprojected"] = tracking.sweep(uow, now)
        uow.commit()
    return found


@_one_scheduler
def release_scheduled_rows(container: Container) -> int:
    """Hourly: bulk rows held for their execution date go out on that day."""
    with container.uow() as uow:
        n = bulk_sweeps.release_due(uow, container.clock())
        uow.commit()
    if n:
        log.info("released %d sub-batches whose rows are due", n)
    return n


@_one_scheduler
def daily_ledger_check(container: Container) -> bool:
    """Ask the ops worker to check the ledger's invariants, once a day."""
    with container.uow() as uow:
        sent = scheduling.enqueue_ledger_check(uow, operation_date(container.clock()))
        uow.commit()
    return sent


@_one_scheduler
def daily_reconciliation(container: Container) -> list[str]:
    """Reconcile each of the last days (Mexico City) against the bank's conciliation list: money can
    come back long after liquidation, and a mismatch makes the order be asked about again."""
    now = container.clock()
    today = operation_date(now)
    days = [operation_date(now - timedelta(days=n)) for n in range(1, container.settings.reconciliation_days + 1)]
    with container.uow() as uow:
        for day in days:
            scheduling.enqueue_reconciliation(uow, day, occasion=f"daily-{today}")
        uow.commit()
    log.info("reconciliation of %s to %s enqueued", days[-1], days[0])
    return days


@_one_scheduler
def late_returns(container: Container) -> int:
    """Liquidated orders older than the reconciliation window are asked about again, a seventh a day."""
    s = container.settings
    with container.uow() as uow:
        n = scheduling.sweep_late_returns(uow, container.clock(), s.reconciliation_days, s.return_window_days)
        uow.commit()
    return n


@_one_scheduler
def monthly_commissions(container: Container) -> int:
    """Hourly on the commission days: each merchant's update once its month has ended in its own zone."""
    with container.uow() as uow:
        n = commissions.enqueue_monthly_commissions(uow, container.clock())
        uow.commit()
    if n:
        log.info("enqueued the monthly commission update for %d merchants", n)
    return n


@_one_scheduler
def daily_loan_servicing(container: Container) -> int:
    """Hourly: the slices of the business day that ended (Mexico City), and of any day missed, each sent once."""
    s = container.settings
    with container.uow() as uow:
        n = loan_servicing.enqueue_servicing(uow, loan_servicing.servicing_day(uow), s.servicing_slice_size,
                                             s.scheduler_catch_up_limit)
        uow.commit()
    if n:
        log.info("enqueued %d slices of the daily loan servicing", n)
    return n
