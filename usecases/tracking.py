"""Tracking by UETR: payment events appended in the transaction of each change, projected by the
``project_payments`` step (queue ``tracking``) into the read model, and the view a client reads."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable

from usecases.ports import UnitOfWork
from domain.access import Action, Role, may
from domain.money import Money, MoneyError
from domain.tracking import PaymentEvent, PaymentEventKind, PaymentView
from usecases import steps
from usecases.access import Principal
from usecases.errors import Forbidden, NotFound

PROJECT_PAGE = 2000  # events a projection takes at once (then it asks again for the rest)
SHOWN_DETAILS = ("amount", "currency", "tracking_key", "bank_reference", "reason", "execution_date", "delivery_date",
                 "rail", "batch_id")


def record(uow: UnitOfWork, events: Iterable[PaymentEvent]) -> None:
    """Append payment events in this transaction, and ask the tracking worker to project them: once a
    second, however many transactions append (an event that comes after that second's projection waits
    for the next one, or the sweep's; the API reads it meanwhile from the events themselves)."""
    appended = list(events)
    if appended:
        uow.payment_events.append(appended)
        uow.outbox.send(steps.PROJECT_PAYMENTS, again=f"events-{uow.clock():%Y%m%dT%H%M%S}")


def sweep(uow: UnitOfWork, now: datetime) -> int:
    """Ask for a projection when events wait for one (the last of a burst); returns how many wait."""
    waiting = uow.payment_events.unprojected_count()
    if waiting:
        uow.outbox.send(steps.PROJECT_PAYMENTS, again=f"sweep-{now:%Y%m%dT%H%M%S}")
    return waiting


def event(uow: UnitOfWork, uetr: str, kind: PaymentEventKind, **details: Any) -> PaymentEvent:
    """One event of a payment, now."""
    return PaymentEvent(uetr, kind, uow.clock(), {k: v for k, v in details.items() if v is not None})


def project(uow: UnitOfWork, limit: int = PROJECT_PAGE) -> int:
    """Fold the oldest unprojected events into the read model; returns how many. When a page is full,
    the step is asked again for the rest."""
    found = uow.payment_events.unprojected(limit)
    if not found:
        return 0
    by_uetr: dict[str, list[tuple[int, PaymentEvent]]] = defaultdict(list)
    for event_id, e in found:
        by_uetr[e.uetr].append((event_id, e))
    known = uow.payment_tracking.views(list(by_uetr))
    folded = []
    for uetr, events in by_uetr.items():
        view, last = known.get(uetr, (PaymentView(uetr), 0))
        for event_id, e in events:
            if event_id > last:
                view.apply(e)
        folded.append((view, events[-1][0], uetr not in known))
    uow.payment_tracking.save_many(folded)
    uow.payment_events.mark_projected([event_id for event_id, _ in found])
    if len(found) == limit:
        uow.outbox.send(steps.PROJECT_PAYMENTS, again=uow.new_id())
    return len(found)


def _sees(who: Principal, view: PaymentView) -> bool:
    if who.role == Role.PARTNER:
        return view.merchant_id is not None and view.merchant_id == who.merchant_id
    if who.role == Role.TENANT:
        return view.tenant_id is not None and view.tenant_id == who.tenant_id
    return True


def _amount(minor: int | None, currency: str | None) -> str | None:
    if minor is None or not currency:
        return None
    try:
        return Money(minor, currency).to_decimal_string()
    except MoneyError:
        return str(minor)


def payment(uow: UnitOfWork, uetr: str, who: Principal) -> dict[str, Any]:
    """A payment as its tracking shows it: status, amount, masked payee, rail, dates, references and its
    timeline. NotFound for an unknown payment, or one the caller may not see."""
    timeline = uow.payment_events.timeline(uetr)
    known = uow.payment_tracking.get(uetr)
    if known is None and not timeline:
        raise NotFound(f"payment {uetr} does not exist")
    view, last = known or (PaymentView(uetr), 0)
    for event_id, e in timeline:  # what the projection has not taken yet: the same fold, from the events
        if event_id > last:
            view.apply(e)
    if view.batch_id is not None and not may(who.role, Action.READ_BATCHES):  # answered as its batch is
        role = who.role.value
        raise Forbidden(f"{'an' if role[0] in 'aeiou' else 'a'} {role} key may not read batches, and payment "
                        f"{uetr} is a row of one")
    if not _sees(who, view):
        raise NotFound(f"payment {uetr} does not exist")
    return {"uetr": uetr, "source": view.source, "status": view.status, "amount": _amount(view.amount, view.currency),
            "amount_minor": view.amount, "currency": view.currency, "payee_account": view.payee_account,
            "payee_name": view.payee_name,
            "rail": view.rail, "execution_date": view.execution_date.isoformat() if view.execution_date else None,
            "delivery_date": view.delivery_date.isoformat() if view.delivery_date else None,
            "tracking_key": view.tracking_key, "bank_reference": view.bank_reference, "reason": view.reason,
            "batch_id": view.batch_id, "updated_at": view.updated_at,
            "timeline": [{"at": e.at, "event": e.kind.value,
                          **{k: e.details[k] for k in SHOWN_DETAILS if k in e.details}} for _, e in timeline]}


def at_operation_date(operation_date: str) -> str:
    """STP's YYYYMMDD as ISO."""
    return f"{operation_date[:4]}-{operation_date[4:6]}-{operation_date[6:8]}"


def payer_of(uow: UnitOfWork, payment: dict[str, Any]) -> str:
    """Who paid, as a receipt names it: the tenant of a bulk row, the platform for a store's payout."""
    if payment.get("batch_id"):
        batch = uow.batches.get(payment["batch_id"])
        return f"tenant {uow.tenants.of_id(batch.tenant_id).name}"
    return "dispersa (store payout)"
