"""The numbers operations watch, read in one short transaction: what waits in the outbox and how long,
orders, transfers, callbacks and dead letters by status, alerts of the last hour, and the last
reconciliation and ledger check. The read side: SQL directly, nothing written. Every gauge has a value
from the first scrape on: each status of an empty table counts 0, and a check that never ran found 0
(at time 0), so that an alert on a gauge never waits for its first row."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from adapters.db import tables as db
from usecases.ports import ReadingUnitOfWork
from domain.bank_events import BankEventStatus
from domain.dead_letters import DeadLetterStatus
from domain.ledger import TransferStatus
from domain.payment_orders import PaymentOrderStatus


@dataclass
class OperationsSnapshot:
    """One reading of the database's gauges (counts are rows; ages are seconds)."""

    outbox_unpublished: int = 0
    outbox_oldest_age_seconds: float = 0.0
    payment_orders: dict[str, int] = field(default_factory=dict)
    transfers: dict[str, int] = field(default_factory=dict)
    bank_events: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    alerts_last_hour: int = 0
    reconciliation_mismatches: int = 0
    reconciliation_at: datetime | None = None  # None: never ran
    ledger_violations: int = 0
    ledger_checked_at: datetime | None = None  # None: never ran


def _by_status(uow: ReadingUnitOfWork, table: Any, statuses: type[enum.Enum]) -> dict[str, int]:
    """Rows per status, every status of the enum there (0 when it has none)."""
    counts = dict.fromkeys((str(s.value) for s in statuses), 0)
    rows = uow.session.execute(select(table.c.status, func.count()).group_by(table.c.status))
    counts.update({getattr(status, "value", status): int(n) for status, n in rows})
    return counts


def _latest(uow: ReadingUnitOfWork, table: Any, at: Any, value: Any) -> tuple[int, datetime | None]:
    row = uow.session.execute(select(value, at).order_by(table.c.id.desc()).limit(1)).first()
    return (int(row[0] or 0), row[1]) if row is not None else (0, None)


def snapshot(uow: ReadingUnitOfWork) -> OperationsSnapshot:
    """The gauges as they are now."""
    now = uow.clock()
    o = db.outbox
    unpublished, oldest = uow.session.execute(select(func.count(), func.min(o.c.created_at))
                                              .where(o.c.published_at.is_(None))).one()
    reading = OperationsSnapshot(outbox_unpublished=int(unpublished))
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        reading.outbox_oldest_age_seconds = max(0.0, (now - oldest).total_seconds())
    reading.payment_orders = _by_status(uow, db.payment_orders, PaymentOrderStatus)
    reading.transfers = _by_status(uow, db.bank_transfers, TransferStatus)
    reading.bank_events = _by_status(uow, db.bank_events, BankEventStatus)
    reading.dead_letters = _by_status(uow, db.dead_letters, DeadLetterStatus)
    e = db.event_log
    reading.alerts_last_hour = int(uow.session.execute(select(func.count()).select_from(e).where(
        e.c.level == "ALERT", e.c.at >= now - timedelta(hours=1))).scalar() or 0)
    r, c = db.reconciliation_runs, db.ledger_checks
    reading.reconciliation_mismatches, reading.reconciliation_at = _latest(uow, r, r.c.started_at, r.c.mismatches)
    reading.ledger_violations, reading.ledger_checked_at = _latest(uow, c, c.c.started_at, c.c.violations)
    return reading
