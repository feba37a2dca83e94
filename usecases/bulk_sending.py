"""Handing a sub-batch to its connector, each row paid at most once. The closed loop and SPEI act a chunk
of rows per transaction. GSMA and Mojaloop are called over HTTP: each row is committed in progress
before its call, the call carries the row's UETR as its idempotency key, and a row asked before with no
answer recorded (a crash, a timeout) is asked where it stands before it is paid again. A row that gets
no clear answer stays in progress and the step raises StillInDoubt, so that its message is retried."""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Protocol

from usecases.ports import UnitOfWork
from domain.connectors import Answer, Connector, Outcome, Payment
from usecases import bulk_execution, connector_callbacks
from usecases.payouts import PayoutConfig

log = logging.getLogger("dispersa.bulk")
REMOTE_CHUNK = 50  # rows marked in progress per transaction before their calls


class RemoteConnector(Protocol):
    """A connector called over HTTP (GSMA, Mojaloop)."""

    def pay(self, payment: Payment) -> Answer: ...

    def status(self, payment: Payment) -> Answer: ...

    def confirm(self, payment: Payment, reference: str | None = None) -> Answer: ...


class Connectors(Protocol):
    """What handing rows over needs from the process: the remote connectors, the per-connector rate limit
    (``throttle(connector, rows)`` blocks until the rows fit), where connectors call back, and how many
    rows a local chunk holds."""

    @property
    def remote(self) -> Callable[[Connector], RemoteConnector]: ...

    @property
    def throttle(self) -> Callable[[Connector, int], None]: ...

    @property
    def callback_base(self) -> Callable[[], str]: ...

    @property
    def chunk(self) -> Callable[[Connector], int]: ...


class StillInDoubt(Exception):
    """Some rows got no clear answer from their connector; the message is retried and they are asked again."""


def execute_sub_batch(new_uow: Callable[[], UnitOfWork], connectors: Connectors, batch_id: str, number: int,
                      payout: PayoutConfig) -> int:
    """Hand the sub-batch's rows to its connector; returns how many rows were asked or handed over in
    this run. Remote rows asked before with no answer are asked again first, even in a sub-batch done."""
    with new_uow() as uow:
        ref = bulk_execution.sub_batch(uow, batch_id, number)
    if ref.connector is not None and ref.connector.is_remote:
        return execute_remote(new_uow, connectors, batch_id, number, ref.connector)
    if not ref.runnable or ref.connector is None:
        return 0
    size, chunks = connectors.chunk(ref.connector), 0
    while True:
        connectors.throttle(ref.connector, size)
        with new_uow() as uow:
            more = bulk_execution.execute_local(uow, batch_id, number, size, payout)
            uow.commit()
        chunks += 1
        if not more:
            return chunks


def execute_remote(new_uow: Callable[[], UnitOfWork], connectors: Connectors, batch_id: str, number: int,
                   connector: Connector) -> int:
    """A GSMA or Mojaloop sub-batch: rows in doubt asked again, then new rows a chunk at a time, each
    committed in progress before its call; returns how many rows were asked. Raises StillInDoubt when
    some got no clear answer."""
    client, base = connectors.remote(connector), connectors.callback_base()
    with new_uow() as uow:
        again = bulk_execution.in_doubt(uow, batch_id, number, base)
        uow.commit()
    doubts = sum(ask(new_uow, connectors, client, connector, payment, asked_before=True) for payment in again)
    asked = len(again)
    while True:
        with new_uow() as uow:
            payments = bulk_execution.hand_over(uow, batch_id, number, REMOTE_CHUNK, base)
            uow.commit()
        if not payments:
            break
        asked += len(payments)
        doubts += sum(ask(new_uow, connectors, client, connector, payment, asked_before=False)
                      for payment in payments)
    if doubts:
        raise StillInDoubt(f"batch {batch_id} sub-batch {number}: {doubts} row(s) got no clear answer from "
                           f"{connector}; asking again")
    return asked


def ask(new_uow: Callable[[], UnitOfWork], connectors: Connectors, client: RemoteConnector, connector: Connector,
        payment: Payment, asked_before: bool) -> bool:
    """Ask the connector about one row (where it stands first, when it was asked before; paid only when the
    connector does not know it) and record the answer; True when the answer is still in doubt."""
    connectors.throttle(connector, 1)
    answer = client.status(payment) if asked_before else None
    if answer is None or (answer.outcome == Outcome.FAILURE and answer.error_code == "404"):
        answer = client.pay(payment)
    with new_uow() as uow:
        bulk_execution.record_answer(uow, payment.instruction_id, answer)
        uow.commit()
    if answer.retryable:
        log.warning("row %s (UETR) through %s: %s", payment.instruction_id, connector, answer.error_description)
    return answer.retryable


def sync_instruction(new_uow: Callable[[], UnitOfWork], connectors: Connectors, uetr: str) -> bool:
    """Ask a row's remote connector where its payment stands (the sweep's step) and record the answer;
    True when the answer is still in doubt (a row settled already, or not remote, is not asked)."""
    with new_uow() as uow:
        found = bulk_execution.remote_payment(uow, uetr, connectors.callback_base())
    if found is None:
        return False
    connector, payment = found
    return ask(new_uow, connectors, connectors.remote(connector), connector, payment, asked_before=True)


def confirm_callback(new_uow: Callable[[], UnitOfWork], connectors: Connectors, uetr: str,
                     message: Mapping[str, Any]) -> bool:
    """A connector's callback, checked against the connector's own status query (asked outside any
    transaction) and applied to its row only if the query shows the same final word; returns whether it
    was applied. Raises StillInDoubt when the query gives no clear answer."""
    name, claim = connector_callbacks.claim_of(message)
    with new_uow() as uow:
        found = connector_callbacks.to_confirm(uow, uetr, name, claim, connectors.callback_base())
        uow.commit()
    if found is None:
        return False
    payment, reference = found
    connector = Connector(name)
    connectors.throttle(connector, 1)
    shown = connectors.remote(connector).confirm(payment, reference)
    if shown.retryable:
        raise StillInDoubt(f"row {uetr}: {connector} gave no clear answer to confirm its callback "
                           f"({shown.error_description}); asking again")
    with new_uow() as uow:
        applied = connector_callbacks.settle(uow, uetr, name, claim, shown)
        uow.commit()
    return applied
