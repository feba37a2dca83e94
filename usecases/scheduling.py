"""What the scheduler enqueues: due trigger evaluations (with catch-up) and sweeps of stuck work."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

from usecases.ports import UnitOfWork
from domain.identity import id_of
from domain.payment_orders import PaymentOrderStatus
from domain.merchants import Store
from domain.schedules import Period, due_periods, instant_look
from domain.triggers import Evaluation, EvaluationOutcome
from usecases import bank_events, steps


def _due_periods(uow: UnitOfWork, until: datetime, catch_up_limit: int) -> Iterator[tuple[Store, Period]]:
    """Every scheduled store's periods due since its last evaluated period, up to ``until``."""
    last_due = uow.evaluations.last_due()
    for store in uow.stores.scheduled():
        since = last_due.get(id_of(store)) or store.created_at
        for period in due_periods(store.schedule, since, until, catch_up_limit):
            yield store, period


def enqueue_due_triggers(uow: UnitOfWork, now: datetime, catch_up_limit: int) -> int:
    """Record an evaluation message for every period due since the store's last one.

    The step's business key (store, period) makes a second scheduler (or a second tick) a no-op.
    """
    count = 0
    for store, period in _due_periods(uow, now, catch_up_limit):
        count += uow.outbox.send(steps.EVALUATE_TRIGGER, store.id, period.key, period.due_at.isoformat())
    for store in uow.stores.instant_with_balance():
        count += _instant_catch_up(uow, store, now)
    return count


def sweep_missed_periods(uow: UnitOfWork, now: datetime, stuck_after: timedelta, catch_up_limit: int) -> int:
    """Re-drive periods due more than ``stuck_after`` ago that still have no evaluation: their message
    was lost or dead-lettered (a store lock held for minutes, say), and the scheduler's own message
    for them is deduplicated. Periods before a store's last evaluated one are not missed: that
    evaluation took whatever was pending then."""
    window = now.strftime("%Y%m%dT%H")
    missed = [(store.id, period) for store, period in _due_periods(uow, now - stuck_after, catch_up_limit)]
    for store_id, period in missed:
        uow.outbox.send(steps.EVALUATE_TRIGGER, store_id, period.key, period.due_at.isoformat(),
                        again=f"sweep-{window}")
    if missed:
        uow.log("sweep", f"{len(missed)} due periods had no evaluation and were re-driven: "
                f"{', '.join(f'store {s} {p.key}' for s, p in missed[:20])}", level="WARNING",
                details={"periods": [[s, p.key] for s, p in missed[:200]]})
    return len(missed)


def _instant_catch_up(uow: UnitOfWork, store: Store, now: datetime) -> int:
    """An instant store is evaluated when a contribution arrives; money freed later (a cancelled or
    returned transfer, an adjustment) waits for the store's daily look, so that a bad account is not
    retried in a loop."""
    look = instant_look(store.schedule, now)
    if look is None:
        return 0
    return int(uow.outbox.send(steps.EVALUATE_TRIGGER, store.id, look.key, None))


def sweep_stuck_work(uow: UnitOfWork, now: datetime, stuck_after: timedelta) -> dict[str, int]:
    """Re-drive ledger work whose message was lost or dead-lettered; report what the relay left behind."""
    cutoff = now - stuck_after
    window = now.strftime("%Y%m%dT%H")
    missing_contributions = uow.credits.delivered_without_contribution(cutoff)
    for credit_id in missing_contributions:
        uow.outbox.send(steps.CONTRIBUTE, credit_id, again=f"sweep-{window}")
    missing_cancellations = uow.credits.cancelled_without_cancellation(cutoff)
    for credit_id in missing_cancellations:
        uow.outbox.send(steps.CANCEL_CREDIT, credit_id, again=f"sweep-{window}")
    requests = _redrive_requests(uow, now, cutoff, window)
    # Copies left in the XQs (a death the worker could not record, a requeued message's old copy) go.
    uow.outbox.send(steps.DRAIN_DEAD_LETTERS, again=f"sweep-{now.strftime('%Y%m%dT%H%M%S')}")
    found = {"contributions": len(missing_contributions), "cancellations": len(missing_cancellations),
             "transfer_requests": len(requests), "unpublished_outbox": uow.outbox.unpublished(before=cutoff)}
    if any(found.values()):
        uow.log("sweep", f"stuck work re-driven: {found}", level="WARNING", details=found)
    return found


REQUEST_GIVE_UP = timedelta(days=1)


def _redrive_requests(uow: UnitOfWork, now: datetime, cutoff: datetime, window: str) -> list[tuple[int, str]]:
    """Treasury's requests for a transfer now whose message was lost are re-driven (the ledger worker
    re-checks the store as it is now); one still undecided after a day ends skipped, with an alert,
    rather than being re-driven for ever."""
    redriven = []
    for row in uow.evaluations.requested_before(cutoff):
        if now - row.evaluated_at > REQUEST_GIVE_UP:
            row.record(Evaluation(EvaluationOutcome.SKIPPED, "treasury's request could not be decided within a day; "
                                                             "the event log says why"), 0, None, now)
            uow.alert("transfer_request_abandoned", f"store {row.store_id}: treasury's request {row.period_key} "
                      "was not decided within a day and was given up; ask again once the cause is fixed",
                      store_id=row.store_id)
            continue
        uow.outbox.send(steps.CREATE_TRANSFER, row.store_id, row.period_key,
                        again=f"sweep-{window}")
        redriven.append((row.store_id, row.period_key))
    return redriven


def sweep_payment_orders(uow: UnitOfWork, now: datetime, stuck_after: timedelta, callback_after: timedelta,
                         unmatched_deadline: timedelta) -> dict[str, int]:
    """Re-drive the bank pipeline: transfers with no order, orders left in Sending (the send step
    queries the tracking key first), orders whose callback is late, callbacks that matched no order."""
    cutoff = now - stuck_after
    window = now.strftime("%Y%m%dT%H%M")
    # Transfers get their order when they are decided; one left without (decided before that, its
    # message lost) gets it here.
    orphan_transfers = uow.transfers.sending_without_order(cutoff)
    for transfer_id in orphan_transfers:
        uow.outbox.send(steps.PAY_TRANSFER, transfer_id, again=f"sweep-{window}")
    unsent = uow.orders.with_status([PaymentOrderStatus.CREATED, PaymentOrderStatus.SENDING], cutoff)
    for uetr in unsent:
        uow.outbox.send(steps.SEND_PAYMENT_ORDER, uetr, again=f"sweep-{window}")
    late = uow.orders.with_status([PaymentOrderStatus.SENT], now - callback_after)
    for uetr in late:
        uow.outbox.send(steps.SYNC_PAYMENT_ORDER, uetr, again=f"sweep-{window}")
    retried, orphaned = bank_events.retry_unmatched(uow, now, unmatched_deadline)
    unprocessed = bank_events.retry_unprocessed(uow, now, stuck_after)
    found = {"transfers_without_order": len(orphan_transfers), "orders_unsent": len(unsent),
             "orders_without_callback": len(late), "events_retried": retried, "events_orphaned": orphaned,
             "events_unprocessed": unprocessed}
    if any(found.values()):
        uow.log("sweep", f"bank pipeline re-driven: {found}", level="WARNING", details=found)
    return found


LATE_RETURN_ROTATION = 7  # each old liquidated order is asked about once a week


def sweep_late_returns(uow: UnitOfWork, now: datetime, reconciled_days: int, return_window_days: int) -> int:
    """Ask the bank again about liquidated orders older than the daily reconciliation covers, for as long
    as a return may still come (``return_window_days``): a return whose callback was lost is found
    here. One seventh of them a day, so the load on the bank stays low."""
    uetrs = uow.orders.liquidated_between(now - timedelta(days=return_window_days), now - timedelta(days=reconciled_days),
                                        LATE_RETURN_ROTATION, now.toordinal() % LATE_RETURN_ROTATION)
    day = now.strftime("%Y%m%d")
    for uetr in uetrs:
        uow.outbox.send(steps.SYNC_PAYMENT_ORDER, uetr, again=f"late-return-{day}")
    if uetrs:
        uow.log("sweep", f"{len(uetrs)} liquidated orders older than the reconciliation window asked about again "
                "(late returns)", details={"orders": len(uetrs)})
    return len(uetrs)


def enqueue_ledger_check(uow: UnitOfWork, day: str) -> bool:
    """The day's check of the ledger's invariants, once per day (YYYYMMDD)."""
    return uow.outbox.send(steps.CHECK_LEDGER, again=f"daily-{day}")


def enqueue_reconciliation(uow: UnitOfWork, day: str, occasion: str | None = None) -> None:
    """Reconcile ``day`` (YYYYMMDD) once per occasion: each daily run, each request from treasury."""
    uow.outbox.send(steps.RECONCILE_DAY, day, again=occasion)
