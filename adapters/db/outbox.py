"""The outbox: messages recorded in the business transaction, published by the relay after commit."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, cast

from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.orm import Session

from adapters.db.errors import insert_unless_present
from adapters.db.tables import outbox
from domain.messages import Step


class Outbox:
    """Writes messages into the current transaction; nothing is sent before commit."""

    def __init__(self, session: Session, clock: Callable[[], datetime], new_id: Callable[[], str]):
        self._session = session
        self._clock = clock
        self._new_id = new_id

    def send(self, step: Step, *args: Any, again: str | None = None, delay_ms: int | None = None) -> bool:
        """Record a message; a second one with the same step and business key is ignored, unless it is
        sent ``again`` on another occasion (a sweep's window, a new run). Returns whether it was recorded."""
        dedupe_key = step.dedupe_key(args, again)
        stmt = insert(outbox).values(
            message_id=self._new_id(), queue_name=step.queue_name, actor_name=step.actor_name,
            args=list(args), dedupe_key=dedupe_key, delay_ms=delay_ms, created_at=self._clock())
        return insert_unless_present(self._session, stmt, lambda: self._session.execute(
            select(outbox.c.id).where(outbox.c.dedupe_key == dedupe_key)).first() is not None) is not None

    def resend(self, message_id: str, queue_name: str, actor_name: str, args: list[Any], occasion: str) -> None:
        """Publish a message again under its own message id, with no options (so its retry count starts
        at zero): its outbox row goes back to unpublished, or a row is written when there is none."""
        reset = self._session.execute(update(outbox).where(outbox.c.message_id == message_id)
                                      .values(published_at=None, delay_ms=None, created_at=self._clock()))
        if cast(CursorResult[Any], reset).rowcount == 0:
            self._session.execute(insert(outbox).values(
                message_id=message_id, queue_name=queue_name, actor_name=actor_name, args=list(args),
                dedupe_key=f"{actor_name}:{message_id}@{occasion}", created_at=self._clock()))

    def unpublished(self, before: datetime) -> int:
        """How many messages recorded before ``before`` the relay has not published yet."""
        return int(self._session.execute(select(func.count()).select_from(outbox).where(
            outbox.c.published_at.is_(None), outbox.c.created_at < before)).scalar() or 0)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    message_id: str
    queue_name: str
    actor_name: str
    args: list[Any]
    delay_ms: int | None


def claim_batch(session: Session, limit: int, queues: tuple[str, ...] = ()) -> list[OutboxMessage]:
    """Lock up to ``limit`` unpublished rows (of ``queues`` only, when given); other relays skip them
    (FOR UPDATE SKIP LOCKED)."""
    stmt = select(outbox.c.id, outbox.c.message_id, outbox.c.queue_name, outbox.c.actor_name, outbox.c.args,
                  outbox.c.delay_ms).where(outbox.c.published_at.is_(None))
    if queues:
        stmt = stmt.where(outbox.c.queue_name.in_(queues))
    rows = session.execute(stmt.order_by(outbox.c.id).limit(limit).with_for_update(skip_locked=True)).all()
    return [OutboxMessage(*row) for row in rows]


def mark_published(session: Session, ids: list[int], at: datetime) -> None:
    if ids:
        session.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=at))


def new_message_id() -> str:
    return str(uuid.uuid4())
