"""What the bank says of an order — liquidated, cancelled, returned — applied to the order and its
transfer, whether it came in a callback, an answer to a query, or a reconciliation."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from adapters.bank.stp_client import FoundOrder, StpClient
from usecases.ports import UnitOfWork
from domain import stp
from domain.payment_orders import Applied, PaymentOrderStatus as S, PaymentSource
from domain.stp import OrderOutcome
from domain.tracking import PaymentEventKind
from usecases import bulk_outcomes, ledger, tracking, withdrawals
from usecases.payouts import LockedOrder, PayoutConfig, lock_order, order_id_of


def accept(uow: UnitOfWork, locked: LockedOrder, bank_order_id: int | None) -> None:
    """The bank has the order: it is in transit, and so is its transfer."""
    was_sending = locked.order.status == S.SENDING
    locked.order.accepted(bank_order_id, uow.clock())
    if was_sending:
        tracking.record(uow, [tracking.event(uow, locked.order.uetr, PaymentEventKind.ACCEPTED,
                                             bank_reference=str(bank_order_id) if bank_order_id else None)])
    if locked.transfer is not None:
        ledger.transfer_sent(uow, locked.transfer, f"STP order {bank_order_id}")


def apply_outcome(uow: UnitOfWork, order_id: int, outcome: OrderOutcome, bank_order_id: int | None = None,
                  cause: str | None = None, happened_at: datetime | None = None) -> Applied:
    """The bank's word on an order. A duplicate or a late word changes nothing; one that contradicts
    what we recorded (a liquidation of a cancelled order) changes nothing either, and raises an alert,
    because money may have gone out twice or not at all."""
    locked = lock_order(uow, order_id)
    order = locked.order
    if order.status == S.SENDING and outcome != OrderOutcome.CANCELLED:
        accept(uow, locked, bank_order_id)  # the callback beat the send result: the order exists
    result = order.apply(outcome, uow.clock(), bank_order_id, cause, happened_at)
    if result == Applied.CONFLICT:
        uow.alert("payment_order_conflict", f"order {order.tracking_key} is {order.status.value} but the bank "
                  f"reports it {outcome.value}; nothing applied, check it with STP",
                  bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key, uetr=order.uetr)
    if result != Applied.APPLIED:
        return result
    tracking.record(uow, [tracking.event(uow, order.uetr, PaymentEventKind(outcome.value), reason=cause,
                                         bank_reference=str(order.bank_order_id) if order.bank_order_id else None)])
    if locked.transfer is not None and locked.store is not None:
        reason = f"{outcome.value} by the bank: {cause}" if cause else None
        ledger.settle_transfer(uow, locked.store, locked.transfer, outcome, reason)
    elif order.source == PaymentSource.BULK_ROW:
        bulk_outcomes.order_settled(uow, order, outcome, cause)
    elif order.source == PaymentSource.WALLET_WITHDRAWAL:
        withdrawals.order_settled(uow, order, outcome)
    uow.log(f"payment_order_{outcome.value}", f"order {order.tracking_key} {outcome.value}",
            bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key, uetr=order.uetr,
            details={"cause": cause} if cause else None)
    return result


def apply_found(uow: UnitOfWork, order_id: int, outcome: OrderOutcome, found: FoundOrder) -> Applied:
    """An outcome consultaOrden showed, with the bank's own cause and time of it."""
    cause = found.fields.get("causaDevolucion") or None
    stamp = found.fields.get("tsDevolucion" if outcome == OrderOutcome.RETURNED else "tsLiquidacion")
    return apply_outcome(uow, order_id, outcome, found.bank_order_id, str(cause) if cause else None,
                         stp.bank_time(stamp))


def record_found(uow: UnitOfWork, order_id: int, found: FoundOrder, config: PayoutConfig) -> None:
    """What consultaOrden showed: an outcome to apply, or an order still in flight."""
    outcome = stp.outcome_of(found.estado, config.estados)
    if outcome is not None:
        apply_found(uow, order_id, outcome, found)
        return
    locked = lock_order(uow, order_id)
    if locked.order.status == S.SENDING and found.bank_order_id:
        accept(uow, locked, found.bank_order_id)


def sync_order(new_uow: Callable[[], UnitOfWork], client: StpClient, order: str | int, config: PayoutConfig) -> str:
    """Ask the bank about an order (by its UETR) whose callback is late (or old, for a late return), and
    apply what it says. Returns the bank's estado, or why it was not asked."""
    with new_uow() as uow:
        order_id = order_id_of(uow, order)
        found_order = uow.orders.get(order_id)
        key, day, status = found_order.tracking_key, found_order.operation_date, found_order.status
    if status not in (S.SENDING, S.SENT, S.LIQUIDATED):
        return str(status.value)
    found = client.query(key, day)
    if found is None:
        return "not at the bank"
    with new_uow() as uow:
        record_found(uow, order_id, found, config)
        uow.commit()
    return found.estado
