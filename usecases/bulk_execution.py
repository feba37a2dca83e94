"""Executing a sub-batch through its connector. The closed loop and SPEI act in the step's transaction,
a chunk of rows at a time: the closed loop pays wallets, SPEI makes each row a PaymentOrder for the
bank pipeline (at-most-once send, webhook, reconciliation). GSMA and Mojaloop are called over HTTP:
each row is marked in progress and committed before its call, and the call carries the row's UETR as
its idempotency key, so that a crash or a redelivery asks again and never pays twice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from usecases.ports import UnitOfWork
from domain import masking, stp
from domain.batches import Batch, BatchStatus, InstructionStatus
from domain.connectors import Answer, Connector, Outcome, Payment
from domain.identity import id_of
from domain.instructions import Instruction
from domain.money import Money
from domain.stp import MEXICO_CITY
from domain.sub_batches import SubBatch, SubBatchStatus
from domain.payment_orders import SPEI_CURRENCY, Payee, PaymentOrderError, PaymentSource, new_order
from domain.tracking import PaymentEvent, PaymentEventKind
from usecases import bulk_progress, closed_loop, spei_funds, steps, tracking
from usecases.payouts import PayoutConfig


@dataclass(frozen=True)
class SubBatchRef:
    """Which connector a sub-batch goes through, and whether its batch still runs."""

    connector: Connector | None
    runnable: bool


def sub_batch(uow: UnitOfWork, batch_id: str, number: int) -> SubBatchRef:
    """The sub-batch's connector (read, no lock), and whether there is anything to do."""
    batch = uow.batches.get(batch_id)
    sub = uow.sub_batches.get(id_of(batch), number) if batch.status == BatchStatus.PROCESSING else None
    return SubBatchRef(sub.connector, not sub.done) if sub is not None else SubBatchRef(None, False)


def execute_local(uow: UnitOfWork, batch_id: str, number: int, limit: int, payout: PayoutConfig) -> bool:
    """Execute up to ``limit`` rows of a closed-loop or SPEI sub-batch; returns whether rows remain. The
    chunk that hands over the last row marks the sub-batch done in its own transaction."""
    batch = uow.batches.get(batch_id)
    sub = uow.sub_batches.lock(id_of(batch), number)
    if sub.done or batch.status != BatchStatus.PROCESSING:
        return False
    rows = uow.instructions.pending_of_sub_batch(id_of(batch), number, limit, today(uow))
    if not rows:
        if not uow.instructions.has_pending(id_of(batch), number):  # else: held until their execution date
            finish(uow, batch, sub)
        return False
    at = uow.clock()
    sub.start(at)
    uow.sub_batches.save(sub)
    config = uow.tenants.of_id(batch.tenant_id).bulk
    if sub.connector == Connector.CLOSED_LOOP:
        closed_loop.pay(uow, batch.tenant_id, rows, create_payees=not config.partylookup_enable)
    else:
        funds = spei_funds.payouts(uow, batch.tenant_id, SPEI_CURRENCY)
        for row in rows:
            _order(uow, batch, row, payout, funds, config.spei_funding_account, config.spei_funding_name)
        funds.record(uow)
    uow.instructions.save_many(rows, at)
    tracking.record(uow, [_settled(uow, r) for r in rows if r.status.is_final])
    more = uow.instructions.has_pending(id_of(batch), number)
    if not more:
        finish(uow, batch, sub)
    bulk_progress.settled(uow, batch_id, sum(1 for r in rows if r.status.is_final))
    return more


def _settled(uow: UnitOfWork, row: Instruction) -> PaymentEvent:
    """A settled row's event: paid (liquidated) or failed with its reason."""
    if row.status == InstructionStatus.SUCCESS:
        return tracking.event(uow, row.uetr, PaymentEventKind.LIQUIDATED, bank_reference=row.connector_reference)
    return tracking.event(uow, row.uetr, PaymentEventKind.FAILED, reason=row.error_description)


def today(uow: UnitOfWork) -> date:
    """Today in Mexico City: every rail's zone is at or ahead of it, so a row released at its midnight is
    released on its execution date, before its rail's cut-off."""
    return uow.clock().astimezone(MEXICO_CITY).date()


def _order(uow: UnitOfWork, batch: Batch, row: Instruction, payout: PayoutConfig, funds: spei_funds.Payouts,
           funding_account: str, funding_name: str) -> None:
    """A SPEI row becomes its payment order (the row's UETR is the order's), queued for the bank, paid out
    of the tenant's float (a row it cannot cover fails, and nothing is sent) and from the tenant's own
    funding account when it has one."""
    at = uow.clock()
    name = row.fields.get("note", "").strip()  # blank: no name to pay to, the row fails INVALID_PAYEE
    try:
        order = new_order(row.uetr, payout.tracking_prefix, PaymentSource.BULK_ROW,
                          Money(row.amount or 0, row.currency), Payee(row.payee_identifier, name),
                          f"Dispersion {batch.request_id} fila {row.row}", stp.operation_date(at), at)
    except (PaymentOrderError, ValueError) as e:
        row.settle(False, at, "INVALID_PAYEE", f"the payment order cannot be built: {e}")
        return
    if not funds.take(uow, row):
        return
    order.ordering_account = funding_account or None
    order.ordering_name = (stp.fold_text(funding_name) or None) if funding_account else None
    uow.orders.add(order)
    row.hand_over(at)
    row.payment_order_id, row.connector_reference = order.id, order.tracking_key
    uow.outbox.send(steps.SEND_PAYMENT_ORDER, order.uetr)
    uow.log("payment_order_created", f"order {order.tracking_key} (UETR {row.uetr}) for row {row.row} of batch "
            f"{batch.batch_id} to {masking.account(order.beneficiary_account)}", reference=order.tracking_key,
            details={"uetr": row.uetr, "batch_id": batch.batch_id})


def finish(uow: UnitOfWork, batch: Batch, sub: SubBatch) -> None:
    """Every row of the sub-batch is handed over: it is done, and the next sub-batch waiting is queued (with
    N run at once, sub-batch k queues k + N)."""
    sub.move_to(SubBatchStatus.DONE, uow.clock())
    uow.sub_batches.save(sub)
    following = sub.number + batch.parallel_sub_batches
    if following < batch.sub_batch_count:
        uow.outbox.send(steps.EXECUTE_SUB_BATCH, batch.batch_id, following)


def hand_over(uow: UnitOfWork, batch_id: str, number: int, limit: int, callback_base: str) -> list[Payment]:
    """Up to ``limit`` rows of a remote sub-batch to ask its connector about: first those asked before with
    no answer recorded (a crash, a timeout), then new ones, marked in progress. The caller commits before
    any call. An empty list: the sub-batch is handed over (it is marked done, the next one queued)."""
    batch = uow.batches.get(batch_id)
    if batch.status != BatchStatus.PROCESSING:
        return []
    sub = uow.sub_batches.lock(id_of(batch), number)
    if sub.done:
        return []
    at = uow.clock()
    sub.start(at)
    uow.sub_batches.save(sub)
    rows = uow.instructions.pending_of_sub_batch(id_of(batch), number, limit, today(uow))
    for row in rows:
        row.hand_over(at)
        row.attempts += 1
    uow.instructions.save_many(rows, at)
    tracking.record(uow, [tracking.event(uow, r.uetr, PaymentEventKind.SENT, rail=r.connector) for r in rows])
    if not rows and not uow.instructions.has_pending(id_of(batch), number):
        finish(uow, batch, sub)
    payer = uow.tenants.of_id(batch.tenant_id).name
    return [payment_of(row, callback_base, payer) for row in rows]


def payment_of(row: Instruction, callback_base: str, tenant: str) -> Payment:
    """What the connector is asked to pay for a row; a row that names no payer is paid by the tenant's own
    account (its name, as the account id the provider knows it by)."""
    f = row.fields
    payer_type, payer = f.get("payer_identifier_type", ""), f.get("payer_identifier", "")
    if not payer.strip():
        payer_type, payer = "accountid", tenant
    return Payment(row.uetr, f.get("payee_identifier_type", ""), row.payee_identifier, payer_type or "accountid",
                   payer, row.amount or 0, row.currency,
                   f.get("note", ""), f"{callback_base.rstrip('/')}/callbacks/{row.connector}/{row.uetr}"
                   if callback_base else "")


def in_doubt(uow: UnitOfWork, batch_id: str, number: int, callback_base: str) -> list[Payment]:
    """The sub-batch's rows handed over with no answer recorded, to be asked about again (each counted
    as one more attempt; the caller commits before asking)."""
    batch = uow.batches.get(batch_id)
    payer = uow.tenants.of_id(batch.tenant_id).name
    rows = uow.instructions.in_doubt_of_sub_batch(id_of(batch), number)
    for row in rows:
        row.attempts += 1
    uow.instructions.save_many(rows, uow.clock())
    return [payment_of(row, callback_base, payer) for row in rows]


def record_answer(uow: UnitOfWork, uetr: str, answer: Answer) -> bool:
    """The connector's word on a row: settled (success or failure), or in progress with its reference.
    A word on a row settled already changes nothing (a duplicate callback). Returns whether it settled."""
    row = uow.instructions.by_uetr(uetr, lock=True)
    at = uow.clock()
    if row.status.is_final:
        return False
    done, referenced = False, bool(answer.reference) and not row.connector_reference
    if answer.reference and not row.connector_reference:
        row.connector_reference = answer.reference[:64]
    if answer.outcome == Outcome.SUCCESS:
        done = row.settle(True, at)
    elif answer.outcome == Outcome.FAILURE:
        done = row.settle(False, at, answer.error_code, answer.error_description)
    elif answer.retryable:
        row.error_description = (answer.error_description or "")[:512]
    uow.instructions.save_many([row], at)
    events = [_settled(uow, row)] if done else []
    if referenced and not done:
        events.append(tracking.event(uow, row.uetr, PaymentEventKind.ACCEPTED, bank_reference=row.connector_reference))
    tracking.record(uow, events)
    if done:
        batch_id = uow.batches.id_of(row.batch_pk)
        bulk_progress.settled(uow, batch_id, 1)
    return done


def remote_payment(uow: UnitOfWork, uetr: str, callback_base: str) -> tuple[Connector, Payment] | None:
    """A row in progress with a remote connector, to ask it about: (connector, payment); None once settled."""
    row = uow.instructions.by_uetr(uetr)
    if row.status.is_final or row.connector is None or not row.connector.is_remote:
        return None
    payer = uow.tenants.of_id(uow.batches.of_pk(row.batch_pk).tenant_id).name
    return row.connector, payment_of(row, callback_base, payer)
