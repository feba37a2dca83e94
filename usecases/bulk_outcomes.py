"""What the bank's word on a bulk row's payment order does to the row: liquidated is a success, cancelled
a failure, and a return (even after success, even months later) a failure with the bank's cause; the
money of a cancelled or returned order goes back into the tenant's float."""
from __future__ import annotations

from usecases.ports import UnitOfWork
from domain.identity import id_of
from domain.payment_orders import PaymentOrder
from domain.stp import OrderOutcome
from usecases import bulk_progress, spei_funds


def order_settled(uow: UnitOfWork, order: PaymentOrder, outcome: OrderOutcome, cause: str | None) -> None:
    """Apply an order's outcome to the row it pays (nothing when it pays no row). The caller holds the
    order's lock; the row's and then the batch's are taken here."""
    row = uow.instructions.of_order(id_of(order), lock=True)
    if row is None:
        return
    at = uow.clock()
    if outcome == OrderOutcome.LIQUIDATED:
        counted = row.settle(True, at)
    elif outcome == OrderOutcome.CANCELLED:
        counted = row.settle(False, at, "CANCELLED", f"cancelled by the bank: {cause or order.last_error or ''}")
    else:
        counted = row.settle(False, at, "RETURNED", f"returned by the bank: {cause or 'no cause given'}")
        if not counted:
            row.returned(at, cause)
    uow.instructions.save_many([row], at)
    if outcome != OrderOutcome.LIQUIDATED:  # the money came back: to the float it was paid from
        spei_funds.give_back(uow, uow.batches.of_pk(row.batch_pk).tenant_id, row,
                             f"order {order.tracking_key} {outcome.value} by the bank")
    batch_id = uow.batches.id_of(row.batch_pk)
    if counted:
        bulk_progress.settled(uow, batch_id, 1)
    uow.log(f"bulk_row_{outcome.value}", f"row {row.row} of batch {batch_id} "
            f"{outcome.value} (order {order.tracking_key})", reference=order.tracking_key,
            details={"uetr": row.uetr})
