"""The outbox relay: publishes committed outbox rows to the broker, then marks them published.

Publishing is at least once (a crash after publish and before the mark republishes);
actors are idempotent on business keys, so that is safe. Rows are claimed with
FOR UPDATE SKIP LOCKED, so several relays can run side by side.
"""
from __future__ import annotations

import logging
import signal
import time
from datetime import datetime
from typing import Any, Callable

import dramatiq
from dramatiq import Message
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.outbox import claim_batch, mark_published

log = logging.getLogger("dispersa.relay")


class Relay:
    """Moves outbox rows to the broker, one claimed batch per transaction."""

    def __init__(self, sessions: sessionmaker[Session], broker: dramatiq.Broker, clock: Callable[[], datetime],
                 batch_size: int = 200, idle_seconds: float = 0.2, queues: tuple[str, ...] = ()):
        self._sessions, self.broker, self._clock = sessions, broker, clock
        self._batch_size, self._idle_seconds = batch_size, idle_seconds
        self.queues = queues  # only these queues' rows; all of them when empty

    def publish_batch(self) -> int:
        """Publish one batch; returns how many messages went out."""
        with self._sessions() as session, session.begin():
            batch = claim_batch(session, self._batch_size, self.queues)
            for row in batch:
                message: Message[Any] = Message(queue_name=row.queue_name, actor_name=row.actor_name, args=tuple(row.args),
                                  kwargs={}, options={}, message_id=row.message_id)
                self.broker.enqueue(message, delay=row.delay_ms)
            mark_published(session, [row.id for row in batch], self._clock())
        return len(batch)

    def drain(self) -> int:
        """Publish until the outbox is empty."""
        total = 0
        while n := self.publish_batch():
            total += n
        return total

    def run_forever(self) -> None:
        """Publish until SIGTERM or SIGINT, resting a moment whenever the outbox is empty."""
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("relay started")
        pause = IdlePause(self._idle_seconds)
        while not stopping:
            try:
                published = self.publish_batch()
            except Exception:
                log.exception("relay batch failed; retrying")
                time.sleep(1)
                continue
            if published:
                pause.reset()
            else:
                time.sleep(pause.next())
        log.info("relay stopped")


class IdlePause:
    """How long the relay rests after finding the outbox empty: briefly at first, so that a message
    committed just after a poll waits milliseconds, not the longest pause; twice as long each time it
    finds nothing again, up to ``longest``, so that an idle relay costs next to nothing."""

    SHORTEST = 0.005

    def __init__(self, longest: float):
        self._longest = max(longest, self.SHORTEST)
        self._current = self.SHORTEST

    def next(self) -> float:
        """The pause to take now; the one after it is longer."""
        pause = self._current
        self._current = min(self._current * 2, self._longest)
        return pause

    def reset(self) -> None:
        """Messages came: the next empty poll pauses briefly again."""
        self._current = self.SHORTEST
