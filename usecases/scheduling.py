"""What the scheduler enqueues: due trigger evaluations (with catch-up) and sweeps of stuck work."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from adapters.db.tables import balance_updates, bank_transfers, credits, outbox, payment_orders, trigger_evaluations
from adapters.db.uow import UnitOfWork
from domain.credits import CreditStatus
from domain.ledger import BalanceUpdateType as T, TransferStatus
from domain.payment_orders import PaymentOrderStatus
from domain.merchants import Store
from domain.schedules import DisbursementMode, due_periods, instant_catch_up_key
from usecases import bank_events, steps


def enqueue_due_triggers(uow: UnitOfWork, now: datetime, catch_up_limit: int) -> int:
    """Record an evaluation message for every period due since the store's last one.

    The outbox's dedupe key makes a second scheduler (or a second tick) a no-op.
    """
    last_due = dict(uow.session.execute(
        select(trigger_evaluations.c.store_id, func.max(trigger_evaluations.c.due_at))
        .group_by(trigger_evaluations.c.store_id)).all())
    stores = list(uow.session.scalars(select(Store).where(
        Store.automation_enabled.is_(True),
        or_(Store.disbursement_mode != DisbursementMode.INSTANT, Store.balance > 0))))
    count = 0
    for store in stores:
        if store.disbursement_mode == DisbursementMode.INSTANT:
            count += _instant_catch_up(uow, store, now)
            continue
        since = last_due.get(store.id) or store.created_at
        for period in due_periods(store.schedule, since, now, catch_up_limit):
            count += uow.outbox.send(steps.EVALUATE_TRIGGER, store.id, period.key, period.due_at.isoformat(),
                                     dedupe_key=f"trigger:{store.id}:{period.key}")
    return count


def _instant_catch_up(uow: UnitOfWork, store: Store, now: datetime) -> int:
    """An instant store is evaluated when a contribution arrives; money freed later (a cancelled or
    returned transfer, an adjustment) is looked at once a day, so that a bad account is not retried
    in a loop."""
    key = instant_catch_up_key(now.astimezone(store.schedule.tz).date())
    return int(uow.outbox.send(steps.EVALUATE_TRIGGER, store.id, key, None, dedupe_key=f"trigger:{store.id}:{key}"))


def sweep_stuck_work(uow: UnitOfWork, now: datetime, stuck_after: timedelta) -> dict[str, int]:
    """Re-drive ledger work whose message was lost or dead-lettered; report what the relay left behind."""
    cutoff = now - stuck_after
    window = now.strftime("%Y%m%dT%H")
    contribution = balance_updates.alias("contribution")
    cancellation = balance_updates.alias("cancellation")
    missing_contributions = list(uow.session.execute(
        select(credits.c.id).outerjoin(contribution, and_(
            contribution.c.credit_id == credits.c.id, contribution.c.type == T.CONTRIBUTION))
        .where(credits.c.delivered_at.is_not(None), credits.c.delivered_at < cutoff, contribution.c.id.is_(None))
    ).scalars())
    for credit_id in missing_contributions:
        uow.outbox.send(steps.CONTRIBUTE, credit_id, dedupe_key=f"sweep:contribute:{credit_id}:{window}")
    missing_cancellations = list(uow.session.execute(
        select(credits.c.id).outerjoin(cancellation, and_(
            cancellation.c.credit_id == credits.c.id, cancellation.c.type == T.CREDIT_CANCELLATION))
        .where(credits.c.status == CreditStatus.CANCELLED, credits.c.delivered_at.is_not(None),
               credits.c.cancelled_at < cutoff, cancellation.c.id.is_(None))
    ).scalars())
    for credit_id in missing_cancellations:
        uow.outbox.send(steps.CANCEL_CREDIT, credit_id, dedupe_key=f"sweep:cancel_credit:{credit_id}:{window}")
    lost_transfers = list(uow.session.execute(
        select(trigger_evaluations.c.store_id, trigger_evaluations.c.period_key)
        .outerjoin(bank_transfers, and_(bank_transfers.c.store_id == trigger_evaluations.c.store_id,
                                        bank_transfers.c.trigger_key == trigger_evaluations.c.period_key))
        .where(trigger_evaluations.c.outcome == "transfer", trigger_evaluations.c.evaluated_at < cutoff,
               bank_transfers.c.id.is_(None))).all())
    for store_id, key in lost_transfers:
        uow.outbox.send(steps.CREATE_TRANSFER, store_id, key, dedupe_key=f"sweep:transfer:{store_id}:{key}:{window}")
    unpublished = uow.session.execute(select(func.count()).select_from(outbox).where(
        outbox.c.published_at.is_(None), outbox.c.created_at < cutoff)).scalar() or 0
    found = {"contributions": len(missing_contributions), "cancellations": len(missing_cancellations),
             "transfers": len(lost_transfers), "unpublished_outbox": int(unpublished)}
    if any(found.values()):
        uow.log("sweep", f"stuck work re-driven: {found}", level="WARNING", details=found)
    return found


def sweep_payment_orders(uow: UnitOfWork, now: datetime, stuck_after: timedelta, callback_after: timedelta,
                         unmatched_deadline: timedelta) -> dict[str, int]:
    """Re-drive the bank pipeline: transfers with no order, orders left in Sending (the send step
    queries the tracking key first), orders whose callback is late, callbacks that matched no order."""
    cutoff = now - stuck_after
    window = now.strftime("%Y%m%dT%H%M")
    orphan_transfers = list(uow.session.execute(
        select(bank_transfers.c.id).outerjoin(payment_orders, payment_orders.c.bank_transfer_id == bank_transfers.c.id)
        .where(bank_transfers.c.status == TransferStatus.SENDING, bank_transfers.c.updated_at < cutoff,
               payment_orders.c.id.is_(None))).scalars())
    for transfer_id in orphan_transfers:
        uow.outbox.send(steps.PAY_TRANSFER, transfer_id, dedupe_key=f"sweep:pay:{transfer_id}:{window}")
    unsent = list(uow.session.execute(select(payment_orders.c.id).where(
        payment_orders.c.status.in_([PaymentOrderStatus.CREATED, PaymentOrderStatus.SENDING]),
        payment_orders.c.updated_at < cutoff)).scalars())
    for order_id in unsent:
        uow.outbox.send(steps.SEND_PAYMENT_ORDER, order_id, dedupe_key=f"sweep:send:{order_id}:{window}")
    late = list(uow.session.execute(select(payment_orders.c.id).where(
        payment_orders.c.status == PaymentOrderStatus.SENT, payment_orders.c.updated_at < now - callback_after
    )).scalars())
    for order_id in late:
        uow.outbox.send(steps.SYNC_PAYMENT_ORDER, order_id, dedupe_key=f"sweep:sync:{order_id}:{window}")
    retried, orphaned = bank_events.retry_unmatched(uow, now, unmatched_deadline)
    unprocessed = bank_events.retry_unprocessed(uow, now, stuck_after)
    found = {"transfers_without_order": len(orphan_transfers), "orders_unsent": len(unsent),
             "orders_without_callback": len(late), "events_retried": retried, "events_orphaned": orphaned,
             "events_unprocessed": unprocessed}
    if any(found.values()):
        uow.log("sweep", f"bank pipeline re-driven: {found}", level="WARNING", details=found)
    return found


def enqueue_reconciliation(uow: UnitOfWork, day: str, dedupe: str | None = None) -> None:
    uow.outbox.send(steps.RECONCILE_DAY, day, dedupe_key=dedupe or f"reconcile:{day}")
