"""The bank's status callbacks: stored raw on arrival (a duplicate is a no-op), applied by an actor."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from adapters.db.tables import bank_events
from adapters.db.uow import UnitOfWork
from domain import stp
from domain.payment_orders import PaymentOrder
from domain.stp import OrderOutcome
from usecases import payouts, steps

FINAL = ("applied", "ignored", "conflict", "orphaned", "unknown_estado")


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def receive(uow: UnitOfWork, body: Mapping[str, Any]) -> tuple[int | None, bool]:
    """Store the event and queue its processing; returns (event id, is_new). A duplicate is a no-op."""
    digest = _digest(body)
    existing = uow.session.execute(select(bank_events.c.id).where(bank_events.c.body_hash == digest)).scalar()
    if existing is not None:
        uow.log("bank_event_duplicate", f"duplicate STP callback {body.get('estado')} for order {body.get('id')}",
                reference=str(body.get("folioOrigen") or "")[:80])
        return existing, False
    estado = str(body.get("estado", ""))[:32]
    result = uow.session.execute(insert(bank_events).values(
        body_hash=digest, body=dict(body), estado=estado, bank_order_id=_int_or_none(body.get("id")),
        folio_origen=str(body.get("folioOrigen") or "")[:64] or None, received_at=uow.clock(), status="received"))
    event_id = result.inserted_primary_key[0]
    uow.log("bank_event", f"STP callback {estado} for order {body.get('id')} (folio {body.get('folioOrigen')})",
            reference=str(body.get("folioOrigen") or "")[:80], details=dict(body))
    uow.outbox.send(steps.PROCESS_BANK_EVENT, event_id)
    return event_id, True


def is_duplicate_insert(error: IntegrityError) -> bool:
    return "body_hash" in str(error.orig)


def _find_order(uow: UnitOfWork, bank_order_id: int | None, folio: str | None) -> PaymentOrder | None:
    clauses = []
    if bank_order_id:
        clauses.append(PaymentOrder.bank_order_id == bank_order_id)
    if folio:
        clauses.append(PaymentOrder.tracking_key == folio)
    if not clauses:
        return None
    return uow.session.scalars(select(PaymentOrder).where(or_(*clauses))).first()


def process(uow: UnitOfWork, event_id: int, estados: Mapping[str, OrderOutcome]) -> str:
    """Apply one stored callback. Duplicates and out-of-order events change nothing; an event for an
    order we do not know yet stays ``unmatched`` and is retried by the sweep."""
    event = uow.session.execute(select(bank_events).where(bank_events.c.id == event_id).with_for_update()).first()
    if event is None or event.status in FINAL:
        return event.status if event else "missing"
    body = event.body

    def mark(status: str, note: str, order_id: int | None = None) -> str:
        uow.session.execute(update(bank_events).where(bank_events.c.id == event_id).values(
            status=status, note=note[:255], processed_at=uow.clock(), payment_order_id=order_id,
            attempts=bank_events.c.attempts + 1))
        return status

    outcome = stp.outcome_of(event.estado, estados)
    if outcome is None:
        uow.alert("bank_event_unknown_estado", f"STP callback with unknown estado {event.estado!r} for order "
                  f"{event.bank_order_id}; nothing applied", reference=event.folio_origen)
        return mark("unknown_estado", f"unknown estado {event.estado!r}")
    order = _find_order(uow, event.bank_order_id, event.folio_origen)
    if order is None:
        uow.log("bank_event_unmatched", f"STP callback for unknown order {event.bank_order_id} "
                f"(folio {event.folio_origen}); will retry", level="WARNING", reference=event.folio_origen)
        return mark("unmatched", "no such order yet")
    cause = body.get("causaDevolucion") or None
    result = payouts.apply_outcome(uow, order.id, outcome, event.bank_order_id, str(cause) if cause else None,
                                   stp.bank_time(body.get("tsLiquidacion")) if outcome == OrderOutcome.LIQUIDATED
                                   else None)
    status = {"applied": "applied", "conflict": "conflict"}.get(result, "ignored")
    return mark(status, f"{outcome.value}: {result} (order {order.status.value})", order.id)


def retry_unmatched(uow: UnitOfWork, now: datetime, deadline: timedelta) -> tuple[int, int]:
    """Re-queue unmatched events younger than the deadline; flag older ones for operations."""
    rows = uow.session.execute(select(bank_events.c.id, bank_events.c.received_at, bank_events.c.folio_origen)
                               .where(bank_events.c.status == "unmatched")).all()
    retried = orphaned = 0
    window = now.strftime("%Y%m%dT%H%M")
    for row in rows:
        if now - row.received_at > deadline:
            flagged = uow.session.execute(update(bank_events).where(
                bank_events.c.id == row.id, bank_events.c.status == "unmatched").values(
                status="orphaned", note="no order matched before the deadline", processed_at=now)).rowcount
            if not flagged:  # applied meanwhile
                continue
            uow.alert("bank_event_orphaned", f"STP callback {row.id} (folio {row.folio_origen}) matched no order "
                      "before the deadline", reference=row.folio_origen)
            orphaned += 1
        else:
            uow.outbox.send(steps.PROCESS_BANK_EVENT, row.id, again=f"unmatched-{window}")
            retried += 1
    return retried, orphaned


def retry_unprocessed(uow: UnitOfWork, now: datetime, stuck_after: timedelta) -> int:
    """Re-queue stored events still not processed after ``stuck_after`` (their message was lost or
    dead-lettered): a return after liquidation must never wait for a person to notice."""
    ids = list(uow.session.scalars(select(bank_events.c.id).where(
        bank_events.c.status == "received", bank_events.c.received_at < now - stuck_after)))
    window = now.strftime("%Y%m%dT%H%M")
    for event_id in ids:
        uow.outbox.send(steps.PROCESS_BANK_EVENT, event_id, again=f"unprocessed-{window}")
    return len(ids)
