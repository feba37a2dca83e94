"""Sending an order to the bank at most once per tracking key: Sending is committed before the call,
and on any doubt (a timeout, a 5xx, a crash, a redelivery) the tracking key is queried before another
attempt."""
from __future__ import annotations

import enum
import logging
from functools import partial
from typing import Callable

from adapters.bank.stp_client import BankUnavailable, StpClient
from usecases.ports import UnitOfWork
from domain import stp
from domain.payment_orders import PaymentOrderStatus as S, PaymentSource, stp_fields
from domain.sealed import refusal
from domain.stp import OrderOutcome
from domain.tracking import PaymentEventKind
from usecases import bank_outcomes, bulk_outcomes, ledger, tracking, withdrawals
from usecases.payouts import NOT_SENT_UNVALIDATED, LockedOrder, PayoutConfig, hold, hold_store, lock_order, order_id_of

log = logging.getLogger("dispersa.payouts")
ALERT_AFTER_ATTEMPTS = 5  # an order the bank keeps answering with an unknown code needs a person


class Registration(str, enum.Enum):
    """What registra's answer means for the order."""

    SENT = "sent"            # the bank has it: in transit
    EXISTS = "exists"        # the tracking key was used: the order is there, query it
    CANCELLED = "cancelled"  # refused for good: the transfer is cancelled
    TRANSIENT = "transient"  # try again later


def _hold_reason(locked: LockedOrder) -> str | None:
    """Why an order never handed to the bank must not go now: its payee cannot be read where it is kept,
    its store is not validated, or treasury validated other bank details since the order was built."""
    refused = refusal(locked.order.beneficiary_account, locked.order.beneficiary_name)
    if refused is not None:
        return f"held: the order's payee cannot be read here ({refused}); not sent"
    if locked.store is None:
        return None
    if not locked.store.validated:
        return NOT_SENT_UNVALIDATED
    if locked.store.validated_clabe != locked.order.beneficiary_account:
        return "held: the store's validated bank details changed after the order was built; not sent"
    return None


def begin_send(uow: UnitOfWork, order_id: int, config: PayoutConfig) -> tuple[dict[str, str], bool] | None:
    """Record Sending before any call. Returns the fields and whether a prior attempt leaves a doubt.
    An order never handed over is checked against its store first, and cancelled if it must not go."""
    locked = lock_order(uow, order_id)
    order = locked.order
    if order.status not in (S.CREATED, S.SENDING):
        return None
    doubt = order.status == S.SENDING
    if not doubt:
        reason = _hold_reason(locked)
        if reason is not None:
            order.move_to(S.CANCELLED, uow.clock(), reason[:255])
            if locked.transfer is None:  # a bulk row's order: treasury must look at it
                uow.alert("payment_order_not_sent", f"order {order.tracking_key}: {reason}", uetr=order.uetr,
                          reference=order.tracking_key)
                return None
            hold(uow, locked.transfer, reason, alert=refusal(order.beneficiary_account, order.beneficiary_name)
                 is not None)
            return None
        if order.source == PaymentSource.WALLET_WITHDRAWAL and withdrawals.held(uow, order):
            return None  # it waits for treasury's approval (a sweep's message sends nothing)
        order.move_to(S.SENDING, uow.clock())
        tracking.record(uow, [tracking.event(uow, order.uetr, PaymentEventKind.SENT, tracking_key=order.tracking_key)])
    order.attempts += 1
    return stp_fields(order, config.ordering), doubt


def record_registration(uow: UnitOfWork, order_id: int, answer: stp.RegistrationAnswer) -> Registration:
    """Apply registra's answer to the order (and its transfer)."""
    locked = lock_order(uow, order_id)
    order = locked.order
    if answer.order_id is not None:
        if order.status in (S.SENDING, S.SENT) or order.bank_order_id is None:
            bank_outcomes.accept(uow, locked, answer.order_id)
        uow.log("payment_order_sent", f"order {order.tracking_key} accepted as STP {answer.order_id}",
                bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key, uetr=order.uetr)
        return Registration.SENT
    error = answer.error
    assert error is not None
    order.last_error = f"{error.code}: {error.message}"[:255]
    if error.fault == stp.Fault.EXISTS:
        return Registration.EXISTS
    if error.fault == stp.Fault.TRANSIENT or order.status != S.SENDING:
        stuck = order.attempts >= ALERT_AFTER_ATTEMPTS
        record = uow.alert if stuck else partial(uow.log, level="WARNING")
        record("payment_order_error", f"order {order.tracking_key}: STP {error.code} {error.message} "
               f"(attempt {order.attempts}){'; still not sent, treasury should look' if stuck else ''}",
               bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key, uetr=order.uetr)
        return Registration.TRANSIENT
    order.move_to(S.CANCELLED, uow.clock(), order.last_error)
    tracking.record(uow, [tracking.event(uow, order.uetr, PaymentEventKind.CANCELLED,
                                         reason=f"refused by STP: {order.last_error}")])
    held = ""
    if locked.transfer is not None and locked.store is not None:
        ledger.settle_transfer(uow, locked.store, locked.transfer, OrderOutcome.CANCELLED,
                               f"STP refused: {order.last_error}")
        if error.about_beneficiary:
            held = "; " + hold_store(uow, locked.store, f"STP refused its payee ({error.code} {error.message})",
                                     bank_transfer_id=locked.transfer.id, reference=order.tracking_key)
    elif order.source == PaymentSource.BULK_ROW:  # a row's failure, shown in its batch: no alert
        bulk_outcomes.order_settled(uow, order, OrderOutcome.CANCELLED, f"STP refused: {order.last_error}")
        uow.log("payment_order_refused", f"order {order.tracking_key} of a bulk row refused by STP ({error.code} "
                f"{error.message}); the row failed", level="WARNING", reference=order.tracking_key, uetr=order.uetr)
        return Registration.CANCELLED
    elif order.source == PaymentSource.WALLET_WITHDRAWAL:
        withdrawals.order_settled(uow, order, OrderOutcome.CANCELLED)
        uow.alert("payment_order_refused", f"order {order.tracking_key} of a wallet withdrawal refused by STP "
                  f"({error.code} {error.message}); its amount is back in the wallet",
                  reference=order.tracking_key, uetr=order.uetr)
        return Registration.CANCELLED
    uow.alert("payment_order_refused", f"order {order.tracking_key} refused by STP ({error.code} "
              f"{error.message}); transfer cancelled, its balance updates are pending again{held}",
              bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key, uetr=order.uetr)
    return Registration.CANCELLED


class StillInDoubt(Exception):
    """No clear answer from the bank yet; the message is retried and the order queried first."""


def send_order(new_uow: Callable[[], UnitOfWork], client: StpClient, order: str | int, config: PayoutConfig) -> str:
    """Send one order (by its UETR) at most once per tracking key. Returns what became of it: ``sent``,
    ``found`` (the bank had it), ``cancelled``, or ``already answered`` (nothing to send)."""
    with new_uow() as uow:
        order_id = order_id_of(uow, order)
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
                    bank_outcomes.record_found(uow, order_id, found, config)
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
        if result == Registration.EXISTS:
            doubt = True
            continue
        if result == Registration.TRANSIENT:
            raise StillInDoubt(f"order {key}: STP answered a transient error")
        return str(result.value)
    raise StillInDoubt(f"order {key}: no clear answer after {config.send_rounds} rounds")
