"""The bank's status callbacks: stored raw on arrival (a duplicate is a no-op), applied by an actor."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from adapters.bank.stp_client import FoundOrder, StpClient
from usecases.ports import UnitOfWork
from domain import stp
from domain.bank_events import BankEvent, BankEventStatus
from domain.identity import id_of
from domain.payment_orders import Applied
from domain.stp import OrderOutcome
from usecases import bank_outcomes, steps
from usecases.payouts import PayoutConfig


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def receive(uow: UnitOfWork, callback: Mapping[str, Any]) -> tuple[int | None, bool]:
    """Store the event (payee data masked, fields we do not know dropped) and queue its processing;
    returns (event id, is_new). A duplicate is a no-op."""
    body = stp.callback_as_stored(callback)
    event = BankEvent(
        body_hash=_digest(body), body=dict(body), estado=str(body.get("estado", ""))[:32], received_at=uow.clock(),
        bank_order_id=stp.bank_order_id(body.get("id")), folio_origen=str(body.get("folioOrigen") or "")[:64] or None)
    event_id, new = uow.bank_events.record(event)
    if not new:
        uow.log("bank_event_duplicate", f"duplicate STP callback {body.get('estado')} for order {body.get('id')}",
                reference=str(body.get("folioOrigen") or "")[:80])
        return event_id, False
    uow.log("bank_event", f"STP callback {event.estado} for order {body.get('id')} (folio {body.get('folioOrigen')})",
            reference=str(body.get("folioOrigen") or "")[:80], details=dict(body))
    uow.outbox.send(steps.PROCESS_BANK_EVENT, event_id)
    return event_id, True


STATUS_OF_RESULT = {Applied.APPLIED: BankEventStatus.APPLIED, Applied.CONFLICT: BankEventStatus.CONFLICT,
                    Applied.DUPLICATE: BankEventStatus.IGNORED, Applied.LATE: BankEventStatus.IGNORED}


def process(uow: UnitOfWork, event_id: int, estados: Mapping[str, OrderOutcome]) -> BankEventStatus:
    """Apply one stored callback. Duplicates and out-of-order events change nothing; an event for an
    order we do not know yet stays ``unmatched`` and is retried by the sweep."""
    event = uow.bank_events.lock(event_id)
    if event.status.is_final:
        return event.status
    outcome = stp.outcome_of(event.estado, estados)
    if outcome is None:
        uow.alert("bank_event_unknown_estado", f"STP callback with unknown estado {event.estado!r} for order "
                  f"{event.bank_order_id}; nothing applied", reference=event.folio_origen)
        event.mark(BankEventStatus.UNKNOWN_ESTADO, f"unknown estado {event.estado!r}", uow.clock())
        return event.status
    order = uow.orders.matching(event.bank_order_id, event.folio_origen)
    if order is None:
        uow.log("bank_event_unmatched", f"STP callback for unknown order {event.bank_order_id} "
                f"(folio {event.folio_origen}); will retry", level="WARNING", reference=event.folio_origen)
        event.mark(BankEventStatus.UNMATCHED, "no such order yet", uow.clock())
        return event.status
    if order.needs_confirmation(outcome):
        event.mark(BankEventStatus.CONFIRMING, f"{outcome.value}: asking the bank (consultaOrden) before it counts",
                   uow.clock(), id_of(order))
        uow.log("bank_event_confirming", f"STP callback {event.estado} for order {order.tracking_key} "
                f"({order.status.value}): a claim until consultaOrden confirms it", reference=order.tracking_key,
                uetr=order.uetr)
        uow.outbox.send(steps.CONFIRM_BANK_EVENT, event_id)
        return event.status
    cause = event.body.get("causaDevolucion") or None
    happened_at = stp.bank_time(event.body.get("tsLiquidacion")) if outcome == OrderOutcome.LIQUIDATED else None
    result = bank_outcomes.apply_outcome(uow, id_of(order), outcome, event.bank_order_id, str(cause) if cause else None,
                                         happened_at)
    event.mark(STATUS_OF_RESULT[result], f"{outcome.value}: {result.value} (order {order.status.value})", uow.clock(),
               id_of(order))
    return event.status


def confirm(new_uow: Callable[[], UnitOfWork], client: StpClient, event_id: int, config: PayoutConfig
            ) -> BankEventStatus:
    """Ask the bank (consultaOrden, outside any transaction) about the order a return or cancellation
    callback names, then apply the callback only if the bank shows the same. A failed query
    (BankUnavailable) is raised, so that the step is retried; the event waits, Confirming, meanwhile."""
    with new_uow() as uow:
        event = uow.bank_events.get(event_id)
        if event.status != BankEventStatus.CONFIRMING or event.payment_order_id is None:
            return event.status
        order = uow.orders.get(event.payment_order_id)
        key, day = order.tracking_key, order.operation_date
    found = client.query(key, day)
    with new_uow() as uow:
        status = settle_confirmation(uow, event_id, found, config)
        uow.commit()
    return status


def settle_confirmation(uow: UnitOfWork, event_id: int, found: FoundOrder | None, config: PayoutConfig
                        ) -> BankEventStatus:
    """What the bank's query showed, against the callback: the same outcome applies it (with the bank's
    own cause and time); anything else changes nothing and raises an alert."""
    event = uow.bank_events.lock(event_id)
    if event.status != BankEventStatus.CONFIRMING or event.payment_order_id is None:
        return event.status
    order_id = event.payment_order_id
    claimed = stp.outcome_of(event.estado, config.estados)
    shown = stp.outcome_of(found.estado, config.estados) if found is not None else None
    if claimed is None or shown != claimed:
        order = uow.orders.get(order_id)
        bank_says = f"estado {found.estado!r}" if found is not None else "no such order"
        uow.alert("bank_event_contradicted", f"STP callback {event.estado} for order {order.tracking_key} is "
                  f"contradicted by consultaOrden ({bank_says}); nothing applied, check it with STP",
                  bank_transfer_id=order.bank_transfer_id, reference=order.tracking_key, uetr=order.uetr,
                  details={"callback": event.body, "bank_estado": found.estado if found is not None else None})
        event.mark(BankEventStatus.CONTRADICTED, f"{event.estado}: consultaOrden shows {bank_says}", uow.clock(),
                   order_id)
        return event.status
    assert found is not None
    result = bank_outcomes.apply_found(uow, order_id, claimed, found)
    event.mark(STATUS_OF_RESULT[result], f"{claimed.value}: {result.value} (confirmed by consultaOrden)", uow.clock(),
               order_id)
    return event.status


def retry_unmatched(uow: UnitOfWork, now: datetime, deadline: timedelta) -> tuple[int, int]:
    """Re-queue unmatched events younger than the deadline; flag older ones for operations."""
    retried = orphaned = 0
    window = now.strftime("%Y%m%dT%H%M")
    for event in uow.bank_events.waiting(BankEventStatus.UNMATCHED):
        if now - event.received_at > deadline:
            event = uow.bank_events.lock(event.id)  # type: ignore[arg-type]
            if event.status != BankEventStatus.UNMATCHED:  # applied meanwhile
                continue
            event.status, event.note, event.processed_at = (BankEventStatus.ORPHANED,
                                                            "no order matched before the deadline", now)
            uow.alert("bank_event_orphaned", f"STP callback {event.id} (folio {event.folio_origen}) matched no "
                      "order before the deadline", reference=event.folio_origen)
            orphaned += 1
        else:
            uow.outbox.send(steps.PROCESS_BANK_EVENT, event.id, again=f"unmatched-{window}")
            retried += 1
    return retried, orphaned


def retry_unprocessed(uow: UnitOfWork, now: datetime, stuck_after: timedelta) -> int:
    """Re-queue stored events still not processed after ``stuck_after`` (their message was lost or
    dead-lettered), and those still waiting for the bank's confirmation (its query failed until the
    step gave up): a return after liquidation must never wait for a person to notice."""
    window = now.strftime("%Y%m%dT%H%M")
    events = uow.bank_events.waiting(BankEventStatus.RECEIVED, received_before=now - stuck_after)
    for event in events:
        uow.outbox.send(steps.PROCESS_BANK_EVENT, event.id, again=f"unprocessed-{window}")
    confirming = uow.bank_events.waiting(BankEventStatus.CONFIRMING, received_before=now - stuck_after)
    for event in confirming:
        uow.outbox.send(steps.CONFIRM_BANK_EVENT, event.id, again=f"unconfirmed-{window}")
    return len(events) + len(confirming)
