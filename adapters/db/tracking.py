"""Repositories of payment tracking: the events appended by UETR, and the read model projected from them."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Sequence

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from adapters.db import tables as t
from domain.tracking import PaymentEvent, PaymentEventKind, PaymentView

E, T = t.payment_events, t.payment_tracking


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


class PaymentEvents:
    """Events of payments, in the order they were appended."""

    def __init__(self, session: Session):
        self._session = session

    def append(self, events: Sequence[PaymentEvent]) -> None:
        """Append events in the caller's transaction (one statement for many)."""
        if events:
            self._session.execute(insert(E), [dict(uetr=e.uetr, kind=e.kind.value, at=e.at, projected=False,
                                                   details={k: _plain(v) for k, v in e.details.items()})
                                              for e in events])

    def unprojected(self, limit: int) -> list[tuple[int, PaymentEvent]]:
        """The oldest events the read model has not taken yet, locked (other projectors skip them)."""
        rows = self._session.execute(select(E).where(E.c.projected.is_(False)).order_by(E.c.id).limit(limit)
                                     .with_for_update(skip_locked=True)).all()
        return [(r.id, PaymentEvent(r.uetr, PaymentEventKind(r.kind), r.at, dict(r.details))) for r in rows]

    def mark_projected(self, ids: Sequence[int]) -> None:
        if ids:
            self._session.execute(update(E).where(E.c.id.in_(list(ids))).values(projected=True))

    def timeline(self, uetr: str) -> list[tuple[int, PaymentEvent]]:
        """A payment's events with their ids, oldest first."""
        return [(int(r.id), PaymentEvent(r.uetr, PaymentEventKind(r.kind), r.at, dict(r.details)))
                for r in self._session.execute(select(E).where(E.c.uetr == uetr).order_by(E.c.id))]

    def unprojected_count(self) -> int:
        """How many events the read model has not taken yet."""
        return int(self._session.execute(select(func.count()).select_from(E).where(
            E.c.projected.is_(False))).scalar() or 0)


class PaymentTracking:
    """The read model: one row per payment, its view folded from its events."""

    def __init__(self, session: Session):
        self._session = session

    def views(self, uetrs: Sequence[str]) -> dict[str, tuple[PaymentView, int]]:
        """The views of these payments (locked), with the last event each has taken."""
        rows = self._session.execute(select(T).where(T.c.uetr.in_(sorted(set(uetrs)))).with_for_update()).all()
        return {r.uetr: (_view(r.view), int(r.last_event_id)) for r in rows}

    def get(self, uetr: str) -> tuple[PaymentView, int] | None:
        """A payment's view and the last event it has taken (no lock)."""
        row = self._session.execute(select(T.c.view, T.c.last_event_id).where(T.c.uetr == uetr)).first()
        return (_view(row.view), int(row.last_event_id)) if row else None

    def save_many(self, views: Sequence[tuple[PaymentView, int, bool]]) -> None:
        """Write views with the last event each has taken, in one multi-row upsert (the rows are locked by
        ``views``, or new)."""
        if not views:
            return
        rows = [dict(uetr=v.uetr, view=_stored(v), merchant_id=v.merchant_id, tenant_id=v.tenant_id, status=v.status,
                     last_event_id=last, updated_at=v.updated_at) for v, last, _ in views]
        changed = ("view", "merchant_id", "tenant_id", "status", "last_event_id", "updated_at")
        if self._session.get_bind().dialect.name == "mysql":
            stmt = mysql_insert(T)
            self._session.execute(stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in changed}), rows)
        else:
            lite = sqlite_insert(T)
            self._session.execute(lite.on_conflict_do_update(index_elements=["uetr"],
                                                             set_={c: lite.excluded[c] for c in changed}), rows)


def _stored(view: PaymentView) -> dict[str, Any]:
    return {k: _plain(v) for k, v in asdict(view).items()}


def _view(raw: dict[str, Any]) -> PaymentView:
    view = PaymentView(raw["uetr"])
    for name, value in raw.items():
        if name in ("execution_date", "delivery_date") and value:
            value = date.fromisoformat(value)
        elif name == "updated_at" and value:
            value = datetime.fromisoformat(value)
        setattr(view, name, value)
    return view
