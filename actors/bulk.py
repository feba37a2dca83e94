"""Bulk actors, on the ``bulk`` queue: split a file a page at a time, plan a batch, execute a sub-batch
through its connector, apply a connector's callback, merge a batch, acknowledge its progress."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from actors.transaction import Config, UowFactory, in_one_transaction
from adapters.acknowledgements import CallbackFailed, CallbackRefused
from domain.connectors import Answer, Outcome, Payment
from usecases import (bulk_acknowledgement, bulk_dates, bulk_execution, bulk_plan, bulk_progress, bulk_split,
                      connector_callbacks)
from usecases.bulk_split import OpenFile

log = logging.getLogger("dispersa.bulk")
REMOTE_CHUNK = 50


class RemoteConnector(Protocol):
    """A connector called over HTTP (GSMA, Mojaloop)."""

    def pay(self, payment: Payment) -> Answer: ...

    def status(self, payment: Payment) -> Answer: ...

    def confirm(self, payment: Payment, reference: str | None = None) -> Answer: ...


Wiring = Callable[[], "BulkWiring"]  # read per message, built once by the composition root


class StillInDoubt(Exception):
    """Some rows got no clear answer from their connector; the message is retried and they are asked again."""


@dataclass(frozen=True)
class BulkWiring:
    """What the bulk steps need from the process: the stored files, the remote connectors, the per-connector
    rate limit (``throttle(connector, rows)`` blocks until the rows fit), where connectors call back, how many
    sub-batches of a batch run at once, how many rows a local chunk holds, the acknowledgement sender, and
    whether the step's message is on its last attempt."""

    open_file: OpenFile
    remote: Callable[[str], RemoteConnector]
    throttle: Callable[[str, int], None]
    callback_base: Callable[[], str]
    parallel: int
    chunk: Callable[[str], int]
    post: Callable[[str, bytes, dict[str, str]], int]
    last_attempt: Callable[[], bool] = lambda: True


def split_batch(uow: UowFactory, wiring: Wiring) -> Callable[..., None]:
    """One page of a batch's file split into instructions, in one transaction."""
    def split_batch(u: Any, batch_id: str, page: int) -> None:
        bulk_split.split_page(u, wiring().open_file, batch_id, page)
    return in_one_transaction(uow, split_batch)


def lookup_dates(uow: UowFactory) -> Callable[..., None]:
    """A page of a dated batch's rows given their execution and delivery dates (the ``dates`` queue)."""
    return in_one_transaction(uow, bulk_dates.lookup_page)


def plan_batch(uow: UowFactory, wiring: Wiring) -> Callable[..., None]:
    """A split batch planned: the threshold, the approval, its sub-batches."""
    def plan_batch(u: Any, batch_id: str) -> None:
        bulk_plan.plan(u, batch_id, wiring().parallel)
    return in_one_transaction(uow, plan_batch)


def execute_sub_batch(uow: UowFactory, wiring: Wiring, payout: Config) -> Callable[[str, int], None]:
    """Closed loop and SPEI: a chunk of rows per transaction until the sub-batch is handed over. GSMA and
    Mojaloop: rows asked before with no answer are asked again first, then new ones, each call after its
    row's in-progress mark is committed."""
    def execute_sub_batch(batch_id: str, number: int) -> None:
        w = wiring()
        with uow() as u:
            ref = bulk_execution.sub_batch(u, batch_id, number)
        if ref.connector in bulk_execution.REMOTE:
            _remote(uow, w, batch_id, number, ref.connector)
            return
        if not ref.runnable or ref.connector is None:
            return
        size = w.chunk(ref.connector)
        while True:
            w.throttle(ref.connector, size)
            with uow() as u:
                more = bulk_execution.execute_local(u, batch_id, number, size, payout())
                u.commit()
            if not more:
                return
    return execute_sub_batch


def _remote(uow: UowFactory, wiring: BulkWiring, batch_id: str, number: int, connector: str) -> None:
    client, base = wiring.remote(connector), wiring.callback_base()
    doubts = 0
    with uow() as u:
        again = bulk_execution.in_doubt(u, batch_id, number, base)
        u.commit()
    for payment in again:
        doubts += _ask(uow, wiring, client, connector, payment, asked_before=True)
    while True:
        with uow() as u:
            payments = bulk_execution.hand_over(u, batch_id, number, REMOTE_CHUNK, base)
            u.commit()
        if not payments:
            break
        for payment in payments:
            doubts += _ask(uow, wiring, client, connector, payment, asked_before=False)
    if doubts:
        raise StillInDoubt(f"batch {batch_id} sub-batch {number}: {doubts} row(s) got no clear answer from "
                           f"{connector}; asking again")


def _ask(uow: UowFactory, wiring: BulkWiring, client: RemoteConnector, connector: str, payment: Payment,
         asked_before: bool) -> int:
    """Ask the connector about one row (its status first when it was asked before) and record the answer;
    1 when the answer is still in doubt."""
    wiring.throttle(connector, 1)
    answer = client.status(payment) if asked_before else None
    if answer is None or (answer.outcome == Outcome.FAILURE and answer.error_code == "404"):
        answer = client.pay(payment)
    with uow() as u:
        bulk_execution.record_answer(u, payment.instruction_id, answer)
        u.commit()
    if answer.retryable:
        log.warning("row %s (UETR) through %s: %s", payment.instruction_id, connector, answer.error_description)
    return 1 if answer.retryable else 0


def sync_instruction(uow: UowFactory, wiring: Wiring) -> Callable[[str], None]:
    """Ask a row's remote connector where its payment stands (the sweep's step), and record the answer."""
    def sync_instruction(uetr: str) -> None:
        w = wiring()
        with uow() as u:
            found = bulk_execution.remote_payment(u, uetr, w.callback_base())
        if found is not None:
            connector, payment = found
            _ask(uow, w, w.remote(connector), connector, payment, asked_before=True)
    return sync_instruction


def apply_connector_callback(uow: UowFactory, wiring: Wiring) -> Callable[..., None]:
    """A connector's callback, queued by the web, checked against the connector's own status query (asked
    outside any transaction) and applied to its row only if the query shows the same final word."""
    def apply_connector_callback(uetr: str, digest: str, message: dict[str, Any]) -> None:
        w = wiring()
        connector, claim = connector_callbacks.claim_of(message)
        with uow() as u:
            found = connector_callbacks.to_confirm(u, uetr, connector, claim, w.callback_base())
            u.commit()
        if found is None:
            return
        payment, reference = found
        w.throttle(connector, 1)
        shown = w.remote(connector).confirm(payment, reference)
        if shown.retryable:
            raise StillInDoubt(f"row {uetr}: {connector} gave no clear answer to confirm its callback "
                               f"({shown.error_description}); asking again")
        with uow() as u:
            connector_callbacks.settle(u, uetr, connector, claim, shown)
            u.commit()
    return apply_connector_callback


def merge_batch(uow: UowFactory) -> Callable[..., None]:
    """A batch whose rows are all settled, completed."""
    return in_one_transaction(uow, bulk_progress.merge)


def acknowledge_batch(uow: UowFactory, wiring: Wiring) -> Callable[[str, int], None]:
    """POST the progress mark to the tenant's X-CallbackURL, signed. A refusal (a 4xx, an address we may
    not call) gives the batch's acknowledgements up at once, a fault on the message's last attempt: one
    ALERT for the batch, no later mark sent, no dead letter."""
    def acknowledge_batch(batch_id: str, mark: int) -> None:
        w = wiring()
        with uow() as u:
            ack = bulk_acknowledgement.acknowledgement(u, batch_id, mark)
        if ack is None:
            return
        try:
            w.post(ack.url, ack.body, {bulk_acknowledgement.SIGNATURE_HEADER: ack.signature})
            return
        except CallbackRefused as e:
            why = str(e)
        except CallbackFailed as e:
            if not w.last_attempt():
                raise
            why = str(e)
        with uow() as u:
            bulk_acknowledgement.give_up(u, batch_id, mark, why)
            u.commit()
    return acknowledge_batch
