"""Ledger steps: contributions, cancellations, adjustments, trigger evaluations and transfers."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from usecases.ports import UnitOfWork
from domain import dual_control, ledger, triggers
from domain.dual_control import AdjustmentMoveError, AdjustmentRequest, AdjustmentStatus, Person
from domain.identity import id_of
from domain.credits import Credit, CreditStatus
from domain.ledger import BalanceUpdate, BalanceUpdateType as T, BankTransfer, TransferStatus
from domain.merchants import Store
from domain.money import MAX_MINOR, within_bound
from domain.schedules import DisbursementMode, instant_key, is_manual_key, manual_key
from domain.triggers import Evaluation, EvaluationOutcome, TriggerEvaluation, TriggerState
from domain.stp import OrderOutcome
from usecases import payouts, steps
from usecases.catalog import second_person
from usecases.errors import Conflict, Invalid
from usecases.payouts import PayoutConfig

TREASURY_PERSON = "a treasury or admin person"


def _evaluate_instant(uow: UnitOfWork, store_id: int, contribution: BalanceUpdate) -> None:
    """An instant store's trigger is evaluated after each contribution."""
    uow.outbox.send(steps.EVALUATE_TRIGGER, store_id, instant_key(id_of(contribution)), None)


def _ensure_contribution(uow: UnitOfWork, store: Store, credit: Credit) -> BalanceUpdate:
    existing = uow.balance_updates.of_credit(id_of(credit), T.CONTRIBUTION)
    if existing is not None:
        return existing
    bu = uow.balance_updates.add(ledger.contribute(store, id_of(credit), credit.contribution, uow.clock()))
    if store.disbursement_mode == DisbursementMode.INSTANT and store.automation_enabled:
        _evaluate_instant(uow, id_of(store), bu)
    return bu


def contribute(uow: UnitOfWork, credit_id: int) -> None:
    """A delivered credit becomes one Contribution; a second run changes nothing.

    The busiest step: it locks only the store's ledger head and writes the balance update directly
    (the balance update itself is the record; no event row is written)."""
    credit = uow.credits.get(credit_id)
    if credit.delivered_at is None:
        uow.log("contribution_skipped", f"credit {credit_id} is not delivered", level="WARNING", credit_id=credit_id)
        return
    head = uow.stores.lock_head(credit.store_id)
    if uow.balance_updates.exists(credit_id, T.CONTRIBUTION):
        return
    bu = uow.balance_updates.append(ledger.contribute(head, credit_id, credit.contribution, uow.clock()))
    uow.stores.save_head(head)
    if head.instant:
        _evaluate_instant(uow, head.id, bu)


def cancel_credit(uow: UnitOfWork, credit_id: int) -> None:
    """Compensate a cancelled credit's contribution with one Credit cancellation, whatever its status."""
    credit = uow.credits.get(credit_id)
    if credit.status != CreditStatus.CANCELLED or credit.delivered_at is None:
        return
    store = uow.stores.lock(credit.store_id)
    if uow.balance_updates.of_credit(credit_id, T.CREDIT_CANCELLATION) is not None:
        return
    # The contribute message may not have run yet: messages are not ordered.
    contribution = _ensure_contribution(uow, store, credit)
    bu = uow.balance_updates.add(ledger.cancel_contribution(store, contribution, uow.clock()))
    reason = credit.cancellation_reason.value if credit.cancellation_reason else "no reason"
    uow.log("credit_cancellation", f"credit {credit_id} cancelled ({reason}): "
            f"{bu.amount} on store {store.id}", store_id=store.id, credit_id=credit_id)


def adjust(uow: UnitOfWork, store_id: int, amount: int, admin_id: int | None, note: str | None,
           idempotency_key: str | None = None, max_amount: int | None = None, by: Person | None = None,
           approval_above: int | None = None) -> BalanceUpdate | AdjustmentRequest:
    """A manual adjustment by treasury; with an idempotency key a repeat returns the first.
    ``max_amount`` bounds a single adjustment either way (DISPERSA_MAX_ADJUSTMENT). A person's adjustment
    above ``approval_above`` (DISPERSA_ADJUSTMENT_APPROVAL_ABOVE), or one that takes what the store was
    adjusted today without a second person above it, is held for another person's approval: the answer is
    then the AdjustmentRequest, and an ALERT says so."""
    if not within_bound(amount):
        raise Invalid(f"an adjustment is at most {MAX_MINOR} minor units either way")
    if max_amount is not None and abs(amount) > max_amount:
        raise Invalid(f"an adjustment is at most {max_amount} minor units either way (DISPERSA_MAX_ADJUSTMENT)")
    if idempotency_key:
        existing = _adjustment_by_key(uow, idempotency_key)
        if existing is not None:
            if existing.store_id != store_id or existing.amount != amount:
                raise Conflict("this Idempotency-Key was used for a different adjustment")
            return existing
    store = uow.stores.lock(store_id)
    try:  # one that could never be applied is refused now, not held for a second person
        ledger.check_move(store, amount)
    except ledger.LedgerError as e:
        raise Invalid(str(e)) from None
    if by is not None:
        held = _hold_adjustment(uow, store, amount, admin_id, note, idempotency_key, by, approval_above)
        if held is not None:
            return held
    return _apply_adjustment(uow, store, amount, admin_id, note, idempotency_key)


def _adjustment_by_key(uow: UnitOfWork, key: str) -> BalanceUpdate | AdjustmentRequest | None:
    made = uow.balance_updates.by_idempotency_key(key)
    return made if made is not None else uow.adjustment_requests.by_idempotency_key(key)


def _apply_adjustment(uow: UnitOfWork, store: Store, amount: int, admin_id: int | None, note: str | None,
                      idempotency_key: str | None) -> BalanceUpdate:
    try:
        bu = uow.balance_updates.add(ledger.adjust(store, amount, admin_id, uow.clock(), note, idempotency_key))
    except ledger.LedgerError as e:
        raise Invalid(str(e)) from None
    uow.log("adjustment", f"adjustment of {amount} on store {store.id}", store_id=store.id,
            details={"admin_id": admin_id, "note": note})
    return bu


def _start_of_day(store: Store, at: datetime) -> datetime:
    """Midnight of ``at``'s day in the store's zone, in UTC: a day's adjustments are counted from there."""
    local = at.astimezone(ZoneInfo(store.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def _hold_adjustment(uow: UnitOfWork, store: Store, amount: int, admin_id: int | None, note: str | None,
                     idempotency_key: str | None, by: Person,
                     approval_above: int | None) -> AdjustmentRequest | None:
    at = uow.clock()
    alone = uow.balance_updates.adjusted_alone_since(id_of(store), _start_of_day(store, at))
    reason = dual_control.adjustment_hold_reason(amount, alone, approval_above)
    if reason is None:
        return None
    request = uow.adjustment_requests.add(AdjustmentRequest(
        store_id=id_of(store), amount=amount, currency=store.currency, reason=reason[:255], requested_by_id=by.id,
        requested_at=at, note=note, idempotency_key=idempotency_key, requested_key_id=admin_id))
    uow.alert("adjustment_held", f"adjustment request {request.id} of {amount} on store {store.id} by {by.email} "
              f"waits for a second person: {reason}; {TREASURY_PERSON} other than {by.email} approves or rejects it "
              f"(POST /api/v1/adjustment-requests/{request.id}/approve)", store_id=store.id,
              details={"adjustment_request_id": request.id, "amount": amount})
    return request


def approve_adjustment(uow: UnitOfWork, request_id: int, by: Person) -> AdjustmentRequest:
    """A second person approves a held adjustment: it becomes its balance update. The requester may not
    (Forbidden); a request decided already is a Conflict."""
    request = uow.adjustment_requests.get(request_id)
    store = uow.stores.lock(request.store_id)
    request = uow.adjustment_requests.lock(request_id)
    second_person(by, uow.people.get(request.requested_by_id), f"adjustment request {request_id} was made",
                  TREASURY_PERSON)
    _decide_adjustment(request, AdjustmentStatus.APPROVED, by, uow.clock())
    try:
        bu = _apply_adjustment(uow, store, request.amount, request.requested_key_id, request.note,
                               request.idempotency_key)
    except Invalid as e:
        raise Conflict(f"adjustment request {request_id} cannot be applied now: {e}") from None
    request.balance_update_id = bu.id
    uow.log("adjustment_approved", f"adjustment request {request_id} approved by {by.email}", store_id=store.id,
            details={"adjustment_request_id": request_id, "balance_update_id": bu.id})
    return request


def reject_adjustment(uow: UnitOfWork, request_id: int, by: Person, note: str) -> AdjustmentRequest:
    """Treasury refuses a held adjustment (its requester may withdraw it too): nothing is adjusted."""
    request = uow.adjustment_requests.lock(request_id)
    _decide_adjustment(request, AdjustmentStatus.REJECTED, by, uow.clock(), note[:255])
    uow.log("adjustment_rejected", f"adjustment request {request_id} rejected by {by.email}: {note}",
            store_id=request.store_id, details={"adjustment_request_id": request_id})
    return request


def _decide_adjustment(request: AdjustmentRequest, status: AdjustmentStatus, by: Person, at: datetime,
                       note: str | None = None) -> None:
    try:
        request.decide(status, by, at, note)
    except AdjustmentMoveError as e:
        raise Conflict(str(e)) from None


def _decide(uow: UnitOfWork, store: Store, key: str, due_at: datetime | None,
            config: PayoutConfig) -> tuple[Evaluation, BankTransfer | None, int]:
    """Decide the period under the store lock and, when it pays, open the transfer in the same transaction."""
    pending = uow.balance_updates.pending(id_of(store))
    total = ledger.pending_total(pending)
    superseded_by = uow.evaluations.later_than(id_of(store), due_at) if due_at is not None else None
    evaluation = triggers.evaluate(TriggerState(
        key=key, mode=store.disbursement_mode, validated=store.validated, automation=store.automation_enabled,
        minimum=store.minimum_transfer, pending_total=total, superseded_by=superseded_by))
    if not evaluation.pays:
        # Held money, and treasury's own requests, are worth an event; a routine skip is in the evaluation row.
        if evaluation.outcome == EvaluationOutcome.HELD or is_manual_key(key):
            level = "WARNING" if evaluation.outcome == EvaluationOutcome.HELD else "INFO"
            uow.log("trigger_evaluated", f"store {store.id} {key}: {evaluation.outcome.value} ({evaluation.reason})",
                    level=level, store_id=store.id)
        return evaluation, None, total
    reasons = dual_control.transfer_approval_reasons(store.requires_confirmation, total,
                                                     config.transfer_approval_above, store.new_details_by_id is not None)
    transfer = uow.transfers.add(ledger.open_transfer(store, pending, key, bool(reasons), uow.clock()))
    uow.log("transfer_created", f"transfer {transfer.id} of {transfer.amount} for store {store.id} "
            f"({transfer.status.value}, {key})", store_id=store.id, bank_transfer_id=transfer.id)
    if reasons:
        _await_approval(uow, store, transfer, reasons)
    if transfer.status == TransferStatus.SENDING:
        payouts.order_transfer(uow, store, transfer, config)
    return evaluation, transfer, total


def _await_approval(uow: UnitOfWork, store: Store, transfer: BankTransfer, reasons: list[str]) -> None:
    """Why the new transfer waits, and who may not approve it: the person who changed the account. A wait
    that dual control imposes (not the store's own switch) raises an ALERT."""
    transfer.approval_reason = "; ".join(reasons)[:255]
    transfer.barred_approver_id = store.new_details_by_id
    if reasons != [dual_control.STORE_CONFIRMATION]:
        uow.alert("transfer_held_for_approval", f"transfer {transfer.id} of {transfer.amount} for store {store.id} "
                  f"waits for treasury's approval: {transfer.approval_reason}", store_id=store.id,
                  bank_transfer_id=transfer.id)


def evaluate_trigger(uow: UnitOfWork, store_id: int, period_key: str, config: PayoutConfig,
                     due_at: datetime | None = None) -> str:
    """Decide once per (store, period): a transfer opened in this same transaction, or a recorded reason
    why not. A repeat of the message returns the recorded outcome."""
    store = uow.stores.lock(store_id)
    done = uow.evaluations.of(store_id, period_key)
    if done is not None:
        return done.outcome.value
    evaluation, transfer, total = _decide(uow, store, period_key, due_at, config)
    uow.evaluations.add(TriggerEvaluation(
        store_id=store_id, period_key=period_key, due_at=due_at, evaluated_at=uow.clock(),
        outcome=evaluation.outcome, reason=evaluation.reason[:255], pending_total=total,
        bank_transfer_id=transfer.id if transfer else None))
    return evaluation.outcome.value


def create_transfer(uow: UnitOfWork, store_id: int, trigger_key: str, config: PayoutConfig) -> BankTransfer | None:
    """Decide treasury's request for a transfer now (a manual key), re-checking the store as it is now.

    Scheduled keys are decided by ``evaluate_trigger``; a create message for one (queued before
    evaluations opened their transfers themselves) decides it the same way, once."""
    store = uow.stores.lock(store_id)
    existing = uow.transfers.by_key(store_id, trigger_key)
    if existing is not None:
        return existing
    row = uow.evaluations.of(store_id, trigger_key)
    if row is not None and row.outcome != EvaluationOutcome.REQUESTED:
        return None  # decided already; its reason is recorded
    evaluation, transfer, total = _decide(uow, store, trigger_key, None, config)
    transfer_id = transfer.id if transfer else None
    if row is None:
        uow.evaluations.add(TriggerEvaluation(store_id, trigger_key, uow.clock(), evaluation.outcome,
                                              evaluation.reason[:255], total, bank_transfer_id=transfer_id))
    else:
        row.record(evaluation, total, transfer_id, uow.clock())
    return transfer


def request_transfer(uow: UnitOfWork, store_id: int, by: Person | None = None) -> str:
    """Treasury asks for a transfer now, outside the store's schedule. The request is recorded as an
    evaluation waiting for the ledger worker, so that a lost message is found and re-driven. The person
    who asked may not approve it."""
    uow.stores.get(store_id)
    at = uow.clock()
    key = manual_key(at, uow.new_id())
    uow.evaluations.add(TriggerEvaluation(store_id, key, at, EvaluationOutcome.REQUESTED, "requested by treasury",
                                          requested_by_id=by.id if by else None))
    uow.outbox.send(steps.CREATE_TRANSFER, store_id, key)
    return key


def locked_transfer(uow: UnitOfWork, transfer_id: int) -> tuple[Store, BankTransfer]:
    """The transfer and its store, locked in the one order every step uses: store, then transfer."""
    transfer = uow.transfers.get(transfer_id)
    store = uow.stores.lock(transfer.store_id)
    return store, uow.transfers.lock(transfer_id)


def approve_transfer(uow: UnitOfWork, transfer_id: int, config: PayoutConfig,
                     by: Person | None = None) -> BankTransfer:
    """Treasury confirms a transfer that waits for it: it moves on to Sending, with its payment order.
    Dual control: neither the person who changed the store's account nor the one who asked for the
    transfer may approve it (Forbidden)."""
    store, transfer = locked_transfer(uow, transfer_id)
    if transfer.status != TransferStatus.WAITING_CONFIRMATION:
        raise Conflict(f"transfer {transfer_id} is {transfer.status.value}, not waiting for confirmation")
    if not store.validated:
        raise Conflict(f"store {store.id} is not validated (its details changed since treasury validated them): "
                       "validate it before approving its transfer, or reject the transfer")
    if by is not None:
        _second_approver(uow, store, transfer, by)
        transfer.approved_by_id = by.id
    store.new_details_by_id = None  # the first payout to the changed account is approved
    transfer.move_to(TransferStatus.SENDING, uow.clock(), f"approved by treasury ({by.email})" if by else
                     "approved by treasury")
    uow.log("transfer_approved", f"transfer {transfer_id} approved", bank_transfer_id=transfer_id,
            store_id=transfer.store_id)
    payouts.order_transfer(uow, store, transfer, config)
    return transfer


def _second_approver(uow: UnitOfWork, store: Store, transfer: BankTransfer, by: Person) -> None:
    for changer in {store.new_details_by_id, transfer.barred_approver_id} - {None}:
        second_person(by, uow.people.get(changer or 0), f"store {store.id}'s bank account was changed",
                      TREASURY_PERSON)
    requested = uow.evaluations.of(store.id or 0, transfer.trigger_key)
    if requested is not None and requested.requested_by_id is not None:
        second_person(by, uow.people.get(requested.requested_by_id), f"transfer {transfer.id} was asked for",
                      TREASURY_PERSON)


def transfer_sent(uow: UnitOfWork, transfer: BankTransfer, detail: str) -> None:
    """The bank accepted the transfer's order (the caller holds the locks): Sending -> In transit, a
    no-op once past it."""
    if transfer.status == TransferStatus.SENDING:
        transfer.move_to(TransferStatus.IN_TRANSIT, uow.clock(), detail)


def reject_transfer(uow: UnitOfWork, transfer_id: int, reason: str) -> BankTransfer:
    """Treasury refuses a waiting transfer: it is Cancelled and its updates are Pending again."""
    _, transfer = locked_transfer(uow, transfer_id)
    if transfer.status != TransferStatus.WAITING_CONFIRMATION:
        raise Conflict(f"transfer {transfer_id} is {transfer.status.value}, not waiting for confirmation")
    ledger.cancel_transfer(transfer, uow.clock(), f"rejected by treasury: {reason}"[:ledger.REASON_LENGTH] if reason
                           else "rejected by treasury")
    uow.log("transfer_rejected", f"transfer {transfer_id} rejected: {reason}", bank_transfer_id=transfer_id,
            store_id=transfer.store_id)
    return transfer


def _flag_credits(uow: UnitOfWork, transfer: BankTransfer, disbursed: bool) -> None:
    uow.credits.flag_disbursed(ledger.credits_of(transfer), disbursed)


# A cancelled or returned transfer always says why, even when the bank's callback gave no cause.
BANK_REASONS = {OrderOutcome.LIQUIDATED: "liquidated by the bank",
                OrderOutcome.CANCELLED: "cancelled by the bank (no cause given)",
                OrderOutcome.RETURNED: "returned by the bank (no cause given)"}
TRANSFER_STATUS_OF = {OrderOutcome.LIQUIDATED: TransferStatus.APPLIED, OrderOutcome.CANCELLED: TransferStatus.CANCELLED,
                      OrderOutcome.RETURNED: TransferStatus.REJECTED}


def settle_transfer(uow: UnitOfWork, store: Store, transfer: BankTransfer, outcome: OrderOutcome,
                    reason: str | None = None) -> bool:
    """Apply the bank's word on a transfer (the caller holds the store's and the transfer's locks).

    Returns False (and changes nothing) for a duplicate or an outcome the transfer can no longer take.
    """
    at = uow.clock()
    reason = (reason or BANK_REASONS[outcome])[:ledger.REASON_LENGTH]
    if not ledger.can_move(transfer.status, TRANSFER_STATUS_OF[outcome]):
        return False
    if outcome == OrderOutcome.LIQUIDATED:
        uow.balance_updates.add(ledger.liquidate(store, transfer, at))
        _flag_credits(uow, transfer, True)
    elif outcome == OrderOutcome.CANCELLED:
        ledger.cancel_transfer(transfer, at, reason)
    else:
        was_applied = transfer.status == TransferStatus.APPLIED
        disbursement = uow.balance_updates.of_transfer(id_of(transfer), T.DISBURSEMENT)
        override = ledger.return_transfer(store, transfer, disbursement, at, reason)
        if override is not None:
            uow.balance_updates.add(override)
        if was_applied:
            _flag_credits(uow, transfer, False)
    uow.log(f"transfer_{outcome.value}", f"transfer {transfer.id} {outcome.value}: {reason}",
            bank_transfer_id=transfer.id, store_id=store.id, details={"reason": reason})
    return True
