"""Ledger steps: contributions, cancellations, adjustments, trigger evaluations and transfers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from adapters.db import repository as repo
from adapters.db.tables import trigger_evaluations
from adapters.db.uow import UnitOfWork
from domain import ledger, triggers
from domain.credits import Credit, CreditStatus
from domain.ledger import BalanceUpdate, BalanceUpdateType as T, BankTransfer, TransferStatus
from domain.merchants import Store
from domain.schedules import DisbursementMode, instant_key, is_manual_key, manual_key
from domain.triggers import Evaluation, EvaluationOutcome, TriggerState
from usecases import steps
from usecases.errors import Conflict, Invalid


def _ensure_contribution(uow: UnitOfWork, store: Store, credit: Credit) -> BalanceUpdate:
    existing = repo.credit_update(uow.session, credit.id, T.CONTRIBUTION)
    if existing is not None:
        return existing
    bu = ledger.contribute(store, credit.id, credit.contribution, uow.clock())
    uow.session.add(bu)
    uow.session.flush()
    uow.log("contribution", f"credit {credit.id} contributes {bu.amount} to store {store.id}",
            store_id=store.id, credit_id=credit.id)
    if store.disbursement_mode == DisbursementMode.INSTANT and store.automation_enabled:
        key = instant_key(bu.id)
        uow.outbox.send(steps.EVALUATE_TRIGGER, store.id, key, None)
    return bu


def contribute(uow: UnitOfWork, credit_id: int) -> None:
    """A delivered credit becomes one Contribution; a second run changes nothing."""
    credit = repo.get(uow.session, Credit, credit_id)
    if credit.delivered_at is None:
        uow.log("contribution_skipped", f"credit {credit_id} is not delivered", level="WARNING", credit_id=credit_id)
        return
    store = repo.lock_store(uow.session, credit.store_id)
    _ensure_contribution(uow, store, credit)


def cancel_credit(uow: UnitOfWork, credit_id: int) -> None:
    """Compensate a cancelled credit's contribution with one Credit cancellation, whatever its status."""
    credit = repo.get(uow.session, Credit, credit_id)
    if credit.status != CreditStatus.CANCELLED or credit.delivered_at is None:
        return
    store = repo.lock_store(uow.session, credit.store_id)
    if repo.credit_update(uow.session, credit_id, T.CREDIT_CANCELLATION) is not None:
        return
    # The contribute message may not have run yet: messages are not ordered.
    contribution = _ensure_contribution(uow, store, credit)
    bu = ledger.cancel_contribution(store, contribution, uow.clock())
    uow.session.add(bu)
    uow.log("credit_cancellation", f"credit {credit_id} cancelled ({credit.cancellation_reason.value}): "
            f"{bu.amount} on store {store.id}", store_id=store.id, credit_id=credit_id)


def adjust(uow: UnitOfWork, store_id: int, amount: int, admin_id: int | None, note: str | None,
           idempotency_key: str | None = None, max_amount: int | None = None) -> BalanceUpdate:
    """A manual adjustment by treasury; with an idempotency key a repeat returns the first.
    ``max_amount`` bounds a single adjustment either way (DISPERSA_MAX_ADJUSTMENT)."""
    if max_amount is not None and abs(amount) > max_amount:
        raise Invalid(f"an adjustment is at most {max_amount} minor units either way (DISPERSA_MAX_ADJUSTMENT)")
    if idempotency_key:
        existing = uow.session.scalars(select(BalanceUpdate).where(
            BalanceUpdate.idempotency_key == idempotency_key)).first()
        if existing is not None:
            if existing.store_id != store_id or existing.amount != amount:
                raise Conflict("this Idempotency-Key was used for a different adjustment")
            return existing
    store = repo.lock_store(uow.session, store_id)
    try:
        bu = ledger.adjust(store, amount, admin_id, uow.clock(), note, idempotency_key)
    except ledger.LedgerError as e:
        raise Invalid(str(e)) from None
    uow.session.add(bu)
    uow.session.flush()
    uow.log("adjustment", f"adjustment of {amount} on store {store_id}", store_id=store_id,
            details={"admin_id": admin_id, "note": note})
    return bu


def _evaluation(uow: UnitOfWork, store_id: int, key: str) -> Any:
    return uow.session.execute(select(trigger_evaluations).where(
        trigger_evaluations.c.store_id == store_id, trigger_evaluations.c.period_key == key)).first()


def _superseded_by(uow: UnitOfWork, store_id: int, due_at: datetime | None) -> str | None:
    """A later period of the store already evaluated: it took whatever was pending then."""
    if due_at is None:
        return None
    return uow.session.execute(select(trigger_evaluations.c.period_key).where(
        trigger_evaluations.c.store_id == store_id, trigger_evaluations.c.due_at > due_at)
        .order_by(trigger_evaluations.c.due_at.desc()).limit(1)).scalar()


def _decide(uow: UnitOfWork, store: Store, key: str, due_at: datetime | None) -> tuple[Evaluation, BankTransfer | None,
                                                                                         int]:
    """Decide the period under the store lock and, when it pays, open the transfer in the same transaction."""
    pending = repo.pending_updates(uow.session, store.id)
    total = ledger.pending_total(pending)
    evaluation = triggers.evaluate(TriggerState(
        key=key, mode=store.disbursement_mode, validated=store.validated, automation=store.automation_enabled,
        minimum=store.minimum_transfer, pending_total=total, superseded_by=_superseded_by(uow, store.id, due_at)))
    if not evaluation.pays:
        # Held money, and treasury's own requests, are worth an event; a routine skip is in the evaluation row.
        if evaluation.outcome == EvaluationOutcome.HELD or is_manual_key(key):
            level = "WARNING" if evaluation.outcome == EvaluationOutcome.HELD else "INFO"
            uow.log("trigger_evaluated", f"store {store.id} {key}: {evaluation.outcome.value} ({evaluation.reason})",
                    level=level, store_id=store.id)
        return evaluation, None, total
    transfer = ledger.open_transfer(store, pending, key, store.requires_confirmation, uow.clock())
    uow.session.add(transfer)
    uow.session.flush()
    uow.log("transfer_created", f"transfer {transfer.id} of {transfer.amount} for store {store.id} "
            f"({transfer.status.value}, {key})", store_id=store.id, bank_transfer_id=transfer.id)
    _pay_if_sending(uow, transfer)
    return evaluation, transfer, total


def evaluate_trigger(uow: UnitOfWork, store_id: int, period_key: str, due_at: datetime | None = None) -> str:
    """Decide once per (store, period): a transfer opened in this same transaction, or a recorded reason
    why not. A repeat of the message returns the recorded outcome."""
    store = repo.lock_store(uow.session, store_id)
    done = _evaluation(uow, store_id, period_key)
    if done is not None:
        return str(done.outcome)
    evaluation, transfer, total = _decide(uow, store, period_key, due_at)
    uow.session.execute(insert(trigger_evaluations).values(
        store_id=store_id, period_key=period_key, due_at=due_at, evaluated_at=uow.clock(),
        outcome=evaluation.outcome.value, reason=evaluation.reason[:255], pending_total=total,
        bank_transfer_id=transfer.id if transfer else None))
    return evaluation.outcome.value


def create_transfer(uow: UnitOfWork, store_id: int, trigger_key: str) -> BankTransfer | None:
    """Decide treasury's request for a transfer now (a manual key), re-checking the store as it is now.

    Scheduled keys are decided by ``evaluate_trigger``; a create message for one (queued before
    evaluations opened their transfers themselves) decides it the same way, once."""
    store = repo.lock_store(uow.session, store_id)
    existing = repo.transfer_by_key(uow.session, store_id, trigger_key)
    if existing is not None:
        return existing
    row = _evaluation(uow, store_id, trigger_key)
    if row is not None and row.outcome != EvaluationOutcome.REQUESTED.value:
        return None  # decided already; its reason is recorded
    evaluation, transfer, total = _decide(uow, store, trigger_key, None)
    values = dict(evaluated_at=uow.clock(), outcome=evaluation.outcome.value, reason=evaluation.reason[:255],
                  pending_total=total, bank_transfer_id=transfer.id if transfer else None)
    if row is None:
        uow.session.execute(insert(trigger_evaluations).values(store_id=store_id, period_key=trigger_key, **values))
    else:
        uow.session.execute(update(trigger_evaluations).where(trigger_evaluations.c.id == row.id).values(**values))
    return transfer


def _pay_if_sending(uow: UnitOfWork, transfer: BankTransfer) -> None:
    if transfer.status == TransferStatus.SENDING:
        uow.outbox.send(steps.PAY_TRANSFER, transfer.id)


def request_transfer(uow: UnitOfWork, store_id: int) -> str:
    """Treasury asks for a transfer now, outside the store's schedule. The request is recorded as an
    evaluation waiting for the ledger worker, so that a lost message is found and re-driven."""
    repo.get(uow.session, Store, store_id)
    at = uow.clock()
    key = manual_key(at, uow.new_id())
    uow.session.execute(insert(trigger_evaluations).values(
        store_id=store_id, period_key=key, due_at=None, evaluated_at=at, outcome=EvaluationOutcome.REQUESTED.value,
        reason="requested by treasury", pending_total=0))
    uow.outbox.send(steps.CREATE_TRANSFER, store_id, key)
    return key


def _locked_transfer(uow: UnitOfWork, transfer_id: int) -> tuple[Store, BankTransfer]:
    transfer = repo.get(uow.session, BankTransfer, transfer_id)
    store = repo.lock_store(uow.session, transfer.store_id)
    return store, repo.get(uow.session, BankTransfer, transfer_id, lock=True)


def approve_transfer(uow: UnitOfWork, transfer_id: int) -> BankTransfer:
    """Treasury confirms a transfer that waits for it; it moves on to Sending."""
    store, transfer = _locked_transfer(uow, transfer_id)
    if transfer.status != TransferStatus.WAITING_CONFIRMATION:
        raise Conflict(f"transfer {transfer_id} is {transfer.status.value}, not waiting for confirmation")
    if not store.validated:
        raise Conflict(f"store {store.id} is not validated (its details changed since treasury validated them): "
                       "validate it before approving its transfer, or reject the transfer")
    transfer.move_to(TransferStatus.SENDING, uow.clock(), "approved by treasury")
    uow.log("transfer_approved", f"transfer {transfer_id} approved", bank_transfer_id=transfer_id,
            store_id=transfer.store_id)
    _pay_if_sending(uow, transfer)
    return transfer


def cancel_unsent(uow: UnitOfWork, transfer: BankTransfer, reason: str) -> None:
    """A transfer that is not sent (the caller holds its store's lock) ends Cancelled with the reason;
    its balance updates are pending again and wait for the store's next period."""
    ledger.cancel_transfer(transfer, uow.clock(), reason[:255])


def transfer_sent(uow: UnitOfWork, transfer_id: int, detail: str) -> None:
    """The bank accepted the transfer's order: Sending -> In transit (a no-op once past it)."""
    _, transfer = _locked_transfer(uow, transfer_id)
    if transfer.status == TransferStatus.SENDING:
        transfer.move_to(TransferStatus.IN_TRANSIT, uow.clock(), detail)


def reject_transfer(uow: UnitOfWork, transfer_id: int, reason: str) -> BankTransfer:
    """Treasury refuses a waiting transfer: it is Cancelled and its updates are Pending again."""
    _, transfer = _locked_transfer(uow, transfer_id)
    if transfer.status != TransferStatus.WAITING_CONFIRMATION:
        raise Conflict(f"transfer {transfer_id} is {transfer.status.value}, not waiting for confirmation")
    ledger.cancel_transfer(transfer, uow.clock(), f"rejected by treasury: {reason}"[:255] if reason
                           else "rejected by treasury")
    uow.log("transfer_rejected", f"transfer {transfer_id} rejected: {reason}", bank_transfer_id=transfer_id,
            store_id=transfer.store_id)
    return transfer


def _flag_credits(uow: UnitOfWork, transfer: BankTransfer, disbursed: bool) -> None:
    """One statement for all the transfer's credits: a monthly transfer can pay thousands."""
    credit_ids = ledger.credits_of(transfer)
    if credit_ids:
        uow.session.execute(update(Credit).where(Credit.id.in_(credit_ids)).values(disbursed=disbursed)
                            .execution_options(synchronize_session="fetch"))


# A cancelled or returned transfer always says why, even when the bank's callback gave no cause.
BANK_REASONS = {"liquidated": "liquidated by the bank", "cancelled": "cancelled by the bank (no cause given)",
                "returned": "returned by the bank (no cause given)"}


def settle_transfer(uow: UnitOfWork, transfer_id: int, outcome: str, reason: str | None = None) -> bool:
    """Apply the bank's word on a transfer: ``liquidated``, ``cancelled`` or ``returned``.

    Returns False (and changes nothing) for a duplicate or an outcome the transfer can no longer take.
    """
    store, transfer = _locked_transfer(uow, transfer_id)
    at = uow.clock()
    target = {"liquidated": TransferStatus.APPLIED, "cancelled": TransferStatus.CANCELLED,
              "returned": TransferStatus.REJECTED}[outcome]
    reason = (reason or BANK_REASONS[outcome])[:255]  # the reason column's width
    if not ledger.can_move(transfer.status, target):
        return False
    if outcome == "liquidated":
        uow.session.add(ledger.liquidate(store, transfer, at))
        _flag_credits(uow, transfer, True)
    elif outcome == "cancelled":
        ledger.cancel_transfer(transfer, at, reason)
    else:
        was_applied = transfer.status == TransferStatus.APPLIED
        disbursement = repo.transfer_update(uow.session, transfer_id, T.DISBURSEMENT)
        override = ledger.return_transfer(store, transfer, disbursement, at, reason)
        if override is not None:
            uow.session.add(override)
        if was_applied:
            _flag_credits(uow, transfer, False)
    uow.log(f"transfer_{outcome}", f"transfer {transfer_id} {outcome}: {reason}", bank_transfer_id=transfer_id,
            store_id=store.id, details={"reason": reason})
    return True
