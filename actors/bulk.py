"""Bulk actors, on the ``bulk`` queue: split a file a page at a time, plan a batch, execute a sub-batch
through its connector, apply a connector's callback, merge a batch, acknowledge its progress."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from actors.transaction import Config, UowFactory, in_one_transaction
from adapters.acknowledgements import CallbackFailed, CallbackRefused
from domain.connectors import Connector
from usecases import bulk_acknowledgement, bulk_dates, bulk_plan, bulk_progress, bulk_sending, bulk_split
from usecases.bulk_sending import RemoteConnector
from usecases.bulk_split import OpenFile

Wiring = Callable[[], "BulkWiring"]  # read per message, built once by the composition root


@dataclass(frozen=True)
class BulkWiring:
    """What the bulk steps need from the process: the stored files, the remote connectors, the per-connector
    rate limit (``throttle(connector, rows)`` blocks until the rows fit), where connectors call back, how many
    sub-batches of a batch run at once, how many rows a local chunk holds, the acknowledgement sender, and
    whether the step's message is on its last attempt."""

    open_file: OpenFile
    remote: Callable[[Connector], RemoteConnector]
    throttle: Callable[[Connector, int], None]
    callback_base: Callable[[], str]
    parallel: int
    chunk: Callable[[Connector], int]
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
    """A sub-batch handed to its connector (``bulk_sending.execute_sub_batch``)."""
    def execute_sub_batch(batch_id: str, number: int) -> None:
        bulk_sending.execute_sub_batch(uow, wiring(), batch_id, number, payout())
    return execute_sub_batch


def sync_instruction(uow: UowFactory, wiring: Wiring) -> Callable[[str], None]:
    """A row's remote connector asked where its payment stands (the sweep's step)."""
    def sync_instruction(uetr: str) -> None:
        bulk_sending.sync_instruction(uow, wiring(), uetr)
    return sync_instruction


def apply_connector_callback(uow: UowFactory, wiring: Wiring) -> Callable[..., None]:
    """A connector's callback, queued by the web, confirmed by the connector's own status query."""
    def apply_connector_callback(uetr: str, digest: str, message: dict[str, Any]) -> None:
        bulk_sending.confirm_callback(uow, wiring(), uetr, message)
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
