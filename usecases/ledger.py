"""Ledger steps: contributions, cancellations, adjustments, trigger evaluations and transfers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from adapters.db import repository as repo
from adapters.db.tables import trigger_evaluations
from adapters.db.uow import UnitOfWork
from domain import ledger
from domain.credits import Credit, CreditStatus
from domain.ledger import BalanceUpdate, BalanceUpdateType as T, BankTransfer, TransferStatus
from domain.merchants import Store
from domain.schedules import DisbursementMode, instant_key, is_manual_key, manual_key
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
        uow.outbox.send(steps.EVALUATE_TRIGGER, store.id, key, None, dedupe_key=f"trigger:{store.id}:{key}")
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
           idempotency_key: str | None = None) -> BalanceUpdate:
    """A manual adjustment by treasury; with an idempotency key a repeat returns the first."""
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


def evaluate_trigger(uow: UnitOfWork, store_id: int, period_key: str, due_at: datetime | None = None) -> str:
    """Decide once per (store, period) whether the pending balance becomes a transfer."""
    store = repo.lock_store(uow.session, store_id)
    done = uow.session.execute(select(trigger_evaluations.c.outcome).where(
        trigger_evaluations.c.store_id == store_id, trigger_evaluations.c.period_key == period_key)).scalar()
    if done is not None:
        return done
    total = ledger.pending_total(repo.pending_updates(uow.session, store_id))
    decision = ledger.decide_transfer(total, store.minimum_transfer, store.automation_enabled)
    outcome = "transfer" if decision.pay else "skipped"
    uow.session.execute(insert(trigger_evaluations).values(
        store_id=store_id, period_key=period_key, due_at=due_at, evaluated_at=uow.clock(), outcome=outcome,
        reason=decision.reason, pending_total=total))
    if decision.pay:
        uow.outbox.send(steps.CREATE_TRANSFER, store_id, period_key, dedupe_key=f"transfer:{store_id}:{period_key}")
    return outcome


def create_transfer(uow: UnitOfWork, store_id: int, trigger_key: str) -> BankTransfer | None:
    """Pending updates become one transfer: Waiting for confirmation, or Sending (the bank step follows)."""
    store = repo.lock_store(uow.session, store_id)
    existing = repo.transfer_by_key(uow.session, store_id, trigger_key)
    if existing is not None:
        return existing
    pending = repo.pending_updates(uow.session, store_id)
    decision = ledger.decide_transfer(ledger.pending_total(pending), store.minimum_transfer,
                                      store.automation_enabled or is_manual_key(trigger_key))
    if not decision.pay:
        uow.log("transfer_skipped", f"store {store_id} {trigger_key}: {decision.reason}", store_id=store_id)
        return None
    transfer = ledger.open_transfer(store, pending, trigger_key, store.requires_confirmation, uow.clock())
    uow.session.add(transfer)
    uow.session.flush()
    uow.log("transfer_created", f"transfer {transfer.id} of {transfer.amount} for store {store_id} "
            f"({transfer.status.value})", store_id=store_id, bank_transfer_id=transfer.id)
    _pay_if_sending(uow, transfer)
    return transfer


def _pay_if_sending(uow: UnitOfWork, transfer: BankTransfer) -> None:
    if transfer.status == TransferStatus.SENDING:
        uow.outbox.send(steps.PAY_TRANSFER, transfer.id, dedupe_key=f"pay:{transfer.id}")


def request_transfer(uow: UnitOfWork, store_id: int) -> str:
    """Treasury asks for a transfer now, outside the store's schedule."""
    repo.get(uow.session, Store, store_id)
    key = manual_key(uow.clock(), uow.new_id())
    uow.outbox.send(steps.CREATE_TRANSFER, store_id, key, dedupe_key=f"transfer:{store_id}:{key}")
    return key


def _locked_transfer(uow: UnitOfWork, transfer_id: int) -> tuple[Store, BankTransfer]:
    transfer = repo.get(uow.session, BankTransfer, transfer_id)
    store = repo.lock_store(uow.session, transfer.store_id)
    return store, repo.get(uow.session, BankTransfer, transfer_id, lock=True)


def approve_transfer(uow: UnitOfWork, transfer_id: int) -> BankTransfer:
    """Treasury confirms a transfer that waits for it; it moves on to Sending."""
    _, transfer = _locked_transfer(uow, transfer_id)
    if transfer.status != TransferStatus.WAITING_CONFIRMATION:
        raise Conflict(f"transfer {transfer_id} is {transfer.status.value}, not waiting for confirmation")
    transfer.move_to(TransferStatus.SENDING, uow.clock(), "approved by treasury")
    uow.log("transfer_approved", f"transfer {transfer_id} approved", bank_transfer_id=transfer_id,
            store_id=transfer.store_id)
    _pay_if_sending(uow, transfer)
    return transfer


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
    ledger.cancel_transfer(transfer, uow.clock(), reason or "rejected by treasury")
    uow.log("transfer_rejected", f"transfer {transfer_id} rejected: {reason}", bank_transfer_id=transfer_id,
            store_id=transfer.store_id)
    return transfer


def _flag_credits(uow: UnitOfWork, transfer: BankTransfer, disbursed: bool) -> None:
    """One statement for all the transfer's credits: a monthly transfer can pay thousands."""
    credit_ids = ledger.credits_of(transfer)
    if credit_ids:
        uow.session.execute(update(Credit).where(Credit.id.in_(credit_ids)).values(disbursed=disbursed)
                            .execution_options(synchronize_session="fetch"))


def settle_transfer(uow: UnitOfWork, transfer_id: int, outcome: str, reason: str | None = None) -> bool:
    """Apply the bank's word on a transfer: ``liquidated``, ``cancelled`` or ``returned``.

    Returns False (and changes nothing) for a duplicate or an outcome the transfer can no longer take.
    """
    store, transfer = _locked_transfer(uow, transfer_id)
    at = uow.clock()
    target = {"liquidated": TransferStatus.APPLIED, "cancelled": TransferStatus.CANCELLED,
              "returned": TransferStatus.REJECTED}[outcome]
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
    uow.log(f"transfer_{outcome}", f"transfer {transfer_id} {outcome}", bank_transfer_id=transfer_id,
            store_id=store.id, details={"reason": reason} if reason else None)
    return True
