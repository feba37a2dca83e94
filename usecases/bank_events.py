"""The bank's status callbacks: stored raw on arrival (a duplicate is a no-op), applied by an actor."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Mapping

from adapters.db.uow import UnitOfWork
from domain import stp
from domain.bank_events import BankEvent, BankEventStatus
from domain.identity import id_of
from domain.payment_orders import Applied
from domain.stp import OrderOutcome
from usecases import bank_outcomes, steps


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def receive(uow: UnitOfWork, body: Mapping[str, Any]) -> tuple[int | None, bool]:
    """Store the event and queue its processing; returns (event id, is_new). A duplicate is a no-op."""
    event = BankEvent(
        body_hash=_digest(body), body=dict(body), estado=str(body.get("estado", ""))[:32], received_at=uow.clock(),
        bank_order_id=_int_or_none(body.get("id")), folio_origen=str(body.get("folioOrigen") or "")[:64] or None)
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
    cause = event.body.get("causaDevolucion") or None
    happened_at = stp.bank_time(event.body.get("tsLiquidacion")) if outcome == OrderOutcome.LIQUIDATED else None
    result = bank_outcomes.apply_outcome(uow, id_of(order), outcome, event.bank_order_id, str(cause) if cause else None,
                                         happened_at)
    event.mark(STATUS_OF_RESULT[result], f"{outcome.value}: {result.value} (order {order.status.value})", uow.clock(),
               id_of(order))
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
    dead-lettered): a return after liquidation must never wait for a person to notice."""
    events = uow.bank_events.waiting(BankEventStatus.RECEIVED, received_before=now - stuck_after)
    window = now.strftime("%Y%m%dT%H%M")
    for event in events:
        uow.outbox.send(steps.PROCESS_BANK_EVENT, event.id, again=f"unprocessed-{window}")
    return len(events)
