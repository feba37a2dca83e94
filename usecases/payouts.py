"""Paying out over SPEI: turn a transfer into a payment order, send it at most once per tracking
key, and apply what the bank says of it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from datetime import datetime
from typing import Callable, Mapping

from sqlalchemy import select

from adapters.bank.stp_client import BankUnavailable, FoundOrder, StpClient
from adapters.db import repository as repo
from adapters.db.uow import UnitOfWork
from domain import clabe, stp
from domain.ledger import BankTransfer, TransferStatus
from domain.merchants import Store
from domain.money import Money
from domain.payment_orders import (
    ALLOWED_ORDER_MOVES, STATUS_OF_OUTCOME, Ordering, Payee, PaymentOrder, PaymentOrderError,
    PaymentOrderStatus as S, PaymentSource, new_order, stp_fields,
)
from domain.stp import OrderOutcome
from usecases import ledger, steps

log = logging.getLogger("dispersa.payouts")
ALERT_AFTER_ATTEMPTS = 5  # an order the bank keeps answering with an unknown code needs a person


@dataclass(frozen=True)
class PayoutConfig:
    """What the bank step needs from the settings."""

    ordering: Ordering
    tracking_prefix: str
    estados: Mapping[str, OrderOutcome]
    send_rounds: int = 3


def order_for_transfer(uow: UnitOfWork, transfer_id: int) -> PaymentOrder | None:
    return uow.session.scalars(select(PaymentOrder).where(PaymentOrder.bank_transfer_id == transfer_id)).first()


def pay_transfer(uow: UnitOfWork, transfer_id: int, config: PayoutConfig) -> PaymentOrder | None:
    """The transfer's one payment order (created once, UETR and tracking key fixed), queued for sending.

    The order carries the bank details treasury validated. A store that is not validated is not paid:
    the transfer is cancelled with the reason and its balance updates wait for the next period. So is
    a transfer whose order can never be sent as it is (a non-MXN store, a name STP cannot carry)."""
    transfer = repo.get(uow.session, BankTransfer, transfer_id)
    existing = order_for_transfer(uow, transfer_id)
    if existing is not None or transfer.status != TransferStatus.SENDING:
        return existing
    store = repo.lock_store(uow.session, transfer.store_id)
    transfer = repo.get(uow.session, BankTransfer, transfer_id, lock=True)
    if transfer.status != TransferStatus.SENDING:
        return None
    if not store.validated:
        _hold(uow, transfer, NOT_SENT_UNVALIDATED)
        return None
    uetr = uow.new_id()
    at = uow.clock()
    try:
        order = new_order(
            uetr, config.tracking_prefix, PaymentSource.BANK_TRANSFER, Money(transfer.amount, transfer.currency),
            Payee(store.validated_clabe or "", store.payee_name, store.validated_rfc_curp or ""),
            f"Dispersion transferencia {transfer.id}", stp.operation_date(at), at, bank_transfer_id=transfer.id)
    except PaymentOrderError as e:
        _hold(uow, transfer, f"the payment order cannot be built: {e}", alert=True)
        return None
    uow.session.add(order)
    uow.session.flush()
    uow.log("payment_order_created", f"order {order.tracking_key} (UETR {uetr}) for transfer {transfer.id} to "
            f"{clabe.mask(order.beneficiary_account)}", bank_transfer_id=transfer.id, store_id=store.id,
            reference=order.tracking_key, details={"uetr": uetr})
    uow.outbox.send(steps.SEND_PAYMENT_ORDER, order.id)
    return order


NOT_SENT_UNVALIDATED = "held: store not validated; not sent, its balance updates wait for the next period"


def _hold(uow: UnitOfWork, transfer: BankTransfer, reason: str, alert: bool = False) -> None:
    """A transfer that must not (or cannot) be sent ends Cancelled with the reason; nothing is retried."""
    ledger.cancel_unsent(uow, transfer, reason)
    record = uow.alert if alert else partial(uow.log, level="WARNING")
    record("transfer_not_sent", f"transfer {transfer.id} of store {transfer.store_id} not sent: {reason}",
           bank_transfer_id=transfer.id, store_id=transfer.store_id)


def _locked_order(uow: UnitOfWork, order_id: int) -> PaymentOrder:
    """Lock in the one order every step uses: store, transfer, then order."""
    order = repo.get(uow.session, PaymentOrder, order_id)
    if order.bank_transfer_id is not None:
        transfer = repo.get(uow.session, BankTransfer, order.bank_transfer_id)
        repo.lock_store(uow.session, transfer.store_id)
        repo.get(uow.session, BankTransfer, transfer.id, lock=True)
    return repo.get(uow.session, PaymentOrder, order_id, lock=True)


def _hold_reason(uow: UnitOfWork, order: PaymentOrder) -> str | None:
    """Why an order never handed to the bank must not go now: its store is not validated, or treasury
    validated other bank details since the order was built."""
    if order.bank_transfer_id is None:
        return None
    store = repo.get(uow.session, Store, repo.get(uow.session, BankTransfer, order.bank_transfer_id).store_id)
    if not store.validated:
        return NOT_SENT_UNVALIDATED
    if store.validated_clabe != order.beneficiary_account:
        return "held: the store's validated bank details changed after the order was built; not sent"
    return None


def begin_send(uow: UnitOfWork, order_id: int, config: PayoutConfig) -> tuple[dict[str, str], bool] | None:
    """Record Sending before any call. Returns the fields and whether a prior attempt leaves a doubt.
    An order never handed over is checked against its store first, and cancelled if it must not go."""
    order = _locked_order(uow, order_id)
    if order.status not in (S.CREATED, S.SENDING):
        return None
    doubt = order.status == S.SENDING
    if not doubt:
        reason = _hold_reason(uow, order)
        if reason is not None:
            order.move_to(S.CANCELLED, uow.clock(), reason[:255])
            _hold(uow, repo.get(uow.session, BankTransfer, order.bank_transfer_id), reason)  # type: ignore[arg-type]
            return None
        order.move_to(S.SENDING, uow.clock())
    order.attempts += 1
    return stp_fields(order, config.ordering), doubt


def _accept(uow: UnitOfWork, order: PaymentOrder, bank_order_id: int | None) -> None:
    order.accepted(bank_order_id, uow.clock())
    if order.bank_transfer_id is not None:
        ledger.transfer_sent(uow, order.bank_transfer_id, f"STP order {bank_order_id}")


def record_registration(uow: UnitOfWork, order_id: int, answer: stp.RegistrationAnswer) -> str:
    """Apply registra's answer: ``sent``, ``exists`` (query it), ``cancelled`` or ``transient``."""
    order = _locked_order(uow, order_id)
    if answer.order_id is not None:
        if order.status in (S.SENDING, S.SENT) or order.bank_order_id is None:
            _accept(uow, order, answer.order_id)
        uow.log("payment_order_sent", f"order {order.tracking_key} accepted as STP {answer.order_id}",
                bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key)
        return "sent"
    error = answer.error
    assert error is not None
    order.last_error = f"{error.code}: {error.message}"[:255]
    if error.fault == stp.Fault.EXISTS:
        return "exists"
    if error.fault == stp.Fault.TRANSIENT or order.status != S.SENDING:
        stuck = order.attempts >= ALERT_AFTER_ATTEMPTS
        record = uow.alert if stuck else partial(uow.log, level="WARNING")
        record("payment_order_error", f"order {order.tracking_key}: STP {error.code} {error.message} "
               f"(attempt {order.attempts}){'; still not sent, treasury should look' if stuck else ''}",
               bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key)
        return "transient"
    order.move_to(S.CANCELLED, uow.clock(), order.last_error)
    held = ""
    if order.bank_transfer_id is not None:
        ledger.settle_transfer(uow, order.bank_transfer_id, "cancelled", f"STP refused: {order.last_error}")
        if error.about_beneficiary:
            held = "; " + _hold_store(uow, order, error)
    uow.alert("payment_order_refused", f"order {order.tracking_key} refused by STP ({error.code} "
              f"{error.message}); transfer cancelled, its balance updates are pending again{held}",
              bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key)
    return "cancelled"


def _hold_store(uow: UnitOfWork, order: PaymentOrder, error: stp.StpError) -> str:
    """The bank refuses this payee for good: the store is no longer validated, so that nothing more is
    sent to it until treasury has looked at its bank details and validated it again."""
    transfer = repo.get(uow.session, BankTransfer, order.bank_transfer_id)  # type: ignore[arg-type]
    store = repo.get(uow.session, Store, transfer.store_id)
    store.validated = False
    uow.alert("store_held", f"store {store.id} held: STP refused its payee ({error.code} {error.message}); "
              "treasury must check its bank details and validate it again", store_id=store.id,
              bank_transfer_id=transfer.id, reference=order.tracking_key)
    return f"store {store.id} held until treasury validates it again"


# A liquidation reported after the return it preceded: the order already has its last word.
LATE = {(S.RETURNED, S.LIQUIDATED)}


def apply_outcome(uow: UnitOfWork, order_id: int, outcome: OrderOutcome, bank_order_id: int | None = None,
                  cause: str | None = None, happened_at: datetime | None = None) -> str:
    """The bank's word on an order: liquidated, cancelled or returned.

    Returns ``applied``; ``duplicate`` or ``late`` (changes nothing); or ``conflict`` when the bank
    contradicts what we recorded (a liquidation of a cancelled order, say): nothing changes and
    operations get an alert, because money may have gone out twice or not at all."""
    order = _locked_order(uow, order_id)
    at = uow.clock()
    if order.status == S.SENDING and outcome != OrderOutcome.CANCELLED:
        _accept(uow, order, bank_order_id)  # the callback beat the send result: the order exists
    target = STATUS_OF_OUTCOME[outcome]
    if target not in ALLOWED_ORDER_MOVES[order.status]:
        if order.status == target or (order.status, target) in LATE:
            return "duplicate" if order.status == target else "late"
        uow.alert("payment_order_conflict", f"order {order.tracking_key} is {order.status.value} but the bank "
                  f"reports it {outcome.value}; nothing applied, check it with STP",
                  bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key)
        return "conflict"
    order.move_to(target, at, cause)
    if bank_order_id and not order.bank_order_id:
        order.bank_order_id = bank_order_id
    if target == S.LIQUIDATED:
        order.liquidated_at = happened_at or at
    elif target == S.RETURNED:
        order.returned_at, order.return_cause = happened_at or at, cause
    if order.bank_transfer_id is not None:
        reason = f"{outcome.value} by the bank: {cause}" if cause else None
        ledger.settle_transfer(uow, order.bank_transfer_id, outcome.value, reason)
    uow.log(f"payment_order_{outcome.value}", f"order {order.tracking_key} {outcome.value}",
            bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key,
            details={"cause": cause} if cause else None)
    return "applied"


def record_found(uow: UnitOfWork, order_id: int, found: FoundOrder, config: PayoutConfig) -> None:
    """What consultaOrden showed: an outcome to apply, or an order still in flight."""
    outcome = stp.outcome_of(found.estado, config.estados)
    cause = found.fields.get("causaDevolucion") or None
    if outcome is not None:
        stamp = found.fields.get("tsDevolucion" if outcome == OrderOutcome.RETURNED else "tsLiquidacion")
        apply_outcome(uow, order_id, outcome, found.bank_order_id, str(cause) if cause else None, stp.bank_time(stamp))
        return
    order = _locked_order(uow, order_id)
    if order.status == S.SENDING and found.bank_order_id:
        _accept(uow, order, found.bank_order_id)


class StillInDoubt(Exception):
    """No clear answer from the bank yet; the message is retried and the order queried first."""


def send_order(new_uow: Callable[[], UnitOfWork], client: StpClient, order_id: int, config: PayoutConfig) -> str:
    """Send one order at most once per tracking key: Sending is committed before the call, and on
    any doubt the tracking key is queried before another attempt."""
    with new_uow() as uow:
        plan = begin_send(uow, order_id, config)
        uow.commit()
    if plan is None:
        return "already answered"
    fields, doubt = plan
    key = fields["claveRastreo"]
    for _ in range(config.send_rounds):
        if doubt:
            found = client.query(key, fields["fechaOperacion"])
            if found is not None:
                with new_uow() as uow:
                    record_found(uow, order_id, found, config)
                    uow.commit()
                return "found"
        try:
            answer = client.register(fields)
        except BankUnavailable as e:
            log.warning("order %s: %s; querying before any new attempt", key, e)
            doubt = True
            continue
        with new_uow() as uow:
            result = record_registration(uow, order_id, answer)
            uow.commit()
        if result == "exists":
            doubt = True
            continue
        if result == "transient":
            raise StillInDoubt(f"order {key}: STP answered a transient error")
        return result
    raise StillInDoubt(f"order {key}: no clear answer after {config.send_rounds} rounds")


def sync_order(new_uow: Callable[[], UnitOfWork], client: StpClient, order_id: int, config: PayoutConfig) -> str:
    """Ask the bank about an order whose callback is late, and apply what it says."""
    with new_uow() as uow:
        order = repo.get(uow.session, PaymentOrder, order_id)
        key, day, status = order.tracking_key, order.operation_date, order.status
    if status not in (S.SENDING, S.SENT, S.LIQUIDATED):
        return status.value
    found = client.query(key, day)
    if found is None:
        return "not at the bank"
    with new_uow() as uow:
        record_found(uow, order_id, found, config)
        uow.commit()
    return found.estado
