"""A transfer becomes its payment order, in the transaction that decides to send it (the transfer's
creation, or treasury's approval): its UETR and tracking key are fixed there for life, and it carries
the bank details treasury validated."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping

from usecases.ports import UnitOfWork
from domain import ledger, masking, stp
from domain.ledger import BankTransfer, TransferStatus
from domain.merchants import Store
from domain.money import Money
from domain.sealed import refusal
from domain.payment_orders import (Ordering, Payee, PayeeError, PaymentOrder, PaymentOrderError, PaymentSource,
                                   new_order)
from domain.stp import OrderOutcome
from domain.tracking import PaymentEventKind
from usecases import steps, tracking

NOT_SENT_UNVALIDATED = "held: store not validated; not sent, its balance updates wait for the next period"
NOT_SENT_FIRST_PAYOUT = ("held: the first payout to changed bank details needs a treasury approval by another "
                         "person; not sent, its balance updates wait for the next period")


@dataclass(frozen=True)
class PayoutConfig:
    """What the bank steps need from the settings."""

    ordering: Ordering
    tracking_prefix: str
    estados: Mapping[str, OrderOutcome]
    send_rounds: int = 3
    transfer_approval_above: int | None = None  # minor units; a larger transfer waits for a second person


@dataclass
class LockedOrder:
    """An order with its transfer and store, locked once, in the one order every step uses:
    store, transfer, then order."""

    order: PaymentOrder
    transfer: BankTransfer | None
    store: Store | None


def order_id_of(uow: UnitOfWork, order: str | int) -> int:
    """The id of the order a message names: by its UETR (an id, in a message sent before the UETR was
    the messages' key)."""
    return order if isinstance(order, int) else uow.orders.id_of(order)


def lock_order(uow: UnitOfWork, order_id: int) -> LockedOrder:
    """Lock an order, with its store and transfer when it pays one, in the order every step uses:
    store, transfer, then order."""
    transfer_id, store_id = uow.orders.payer_of(order_id)
    if transfer_id is None or store_id is None:
        return LockedOrder(uow.orders.lock(order_id), None, None)
    store = uow.stores.lock(store_id)
    transfer = uow.transfers.lock(transfer_id)
    return LockedOrder(uow.orders.lock(order_id), transfer, store)


def order_transfer(uow: UnitOfWork, store: Store, transfer: BankTransfer, config: PayoutConfig) -> PaymentOrder | None:
    """The Sending transfer's one payment order, queued for the bank (the caller holds the store's
    lock). A store that is not validated is not paid, and a transfer whose order can never be sent as
    it is (a non-MXN store, a name STP cannot carry) is not retried: either ends Cancelled with the
    reason, and its balance updates wait for the next period. When the payee's details are at fault
    the store is held too, so that later periods do not open and cancel transfer after transfer."""
    if not store.validated:
        hold(uow, transfer, NOT_SENT_UNVALIDATED)
        return None
    refused = refusal(store.validated_clabe, store.validated_beneficiary_name)
    if refused is not None:
        reason = f"the store's validated bank details cannot be read here: {refused}"
        hold(uow, transfer, reason, alert=True)
        hold_store(uow, store, reason, bank_transfer_id=transfer.id)
        return None
    if store.new_details_by_id is not None and transfer.approved_by_id is None:
        hold(uow, transfer, NOT_SENT_FIRST_PAYOUT, alert=True)
        return None
    uetr = uow.new_id()
    at = uow.clock()
    try:
        order = new_order(
            uetr, config.tracking_prefix, PaymentSource.BANK_TRANSFER, Money(transfer.amount, transfer.currency),
            Payee(store.validated_clabe or "", store.payee_name, store.validated_rfc_curp or ""),
            f"Dispersion transferencia {transfer.id}", stp.operation_date(at), at, bank_transfer_id=transfer.id)
    except PaymentOrderError as e:
        reason = f"the payment order cannot be built: {e}"
        hold(uow, transfer, reason, alert=True)
        if isinstance(e, PayeeError):  # every later transfer would fail the same way
            hold_store(uow, store, reason, bank_transfer_id=transfer.id)
        return None
    uow.orders.add(order)
    tracking.record(uow, [tracking.event(
        uow, uetr, PaymentEventKind.INITIATED, source="store_transfer", amount=order.amount, currency=order.currency,
        payee_account=masking.account(order.beneficiary_account), payee_name=masking.name(order.beneficiary_name),
        tracking_key=order.tracking_key, merchant_id=store.merchant_id,
        rail="SPEI", execution_date=tracking.at_operation_date(order.operation_date),
        delivery_date=tracking.at_operation_date(order.operation_date))])
    uow.log("payment_order_created", f"order {order.tracking_key} (UETR {uetr}) for transfer {transfer.id} to "
            f"{masking.account(order.beneficiary_account)}", bank_transfer_id=transfer.id, store_id=store.id,
            reference=order.tracking_key, details={"uetr": uetr})
    uow.outbox.send(steps.SEND_PAYMENT_ORDER, order.uetr)
    return order


def pay_transfer(uow: UnitOfWork, transfer_id: int, config: PayoutConfig) -> PaymentOrder | None:
    """A Sending transfer that has no order yet gets one. Transfers get theirs when they are decided;
    this step remains for transfers decided before that, whose message may still be queued."""
    transfer = uow.transfers.get(transfer_id)
    existing = uow.orders.of_transfer(transfer_id)
    if existing is not None or transfer.status != TransferStatus.SENDING:
        return existing
    store = uow.stores.lock(transfer.store_id)
    transfer = uow.transfers.lock(transfer_id)
    if transfer.status != TransferStatus.SENDING or uow.orders.of_transfer(transfer_id) is not None:
        return uow.orders.of_transfer(transfer_id)
    return order_transfer(uow, store, transfer, config)


def hold(uow: UnitOfWork, transfer: BankTransfer, reason: str, alert: bool = False) -> None:
    """A transfer that must not (or cannot) be sent ends Cancelled with the reason; nothing is retried.
    Its balance updates are pending again and wait for the store's next period."""
    ledger.cancel_transfer(transfer, uow.clock(), reason[:ledger.REASON_LENGTH])
    record = uow.alert if alert else partial(uow.log, level="WARNING")
    record("transfer_not_sent", f"transfer {transfer.id} of store {transfer.store_id} not sent: {reason}",
           bank_transfer_id=transfer.id, store_id=transfer.store_id)


def hold_store(uow: UnitOfWork, store: Store, why: str, **refs: Any) -> str:
    """Nothing more is sent to this store until treasury has looked at its bank details and validated
    it again: it is no longer validated, and an alert says why. Returns the sentence to quote."""
    store.validated = False
    uow.alert("store_held", f"store {store.id} held: {why}; treasury must check its bank details and validate "
              "it again", store_id=store.id, **refs)
    return f"store {store.id} held until treasury validates it again"
