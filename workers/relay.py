"""The outbox relay: publishes committed outbox rows to the broker, then marks them published.

Publishing is at least once (a crash after publish and before the mark republishes);
actors are idempotent on business keys, so that is safe. Rows are claimed with
FOR UPDATE SKIP LOCKED, so several relays can run side by side.
"""
from __future__ import annotations

import logging
import signal
import time

import dramatiq
from dramatiq import Message

from adapters.db.outbox import claim_batch, mark_published
from bootstrap import Container, build_container, configure_logging

log = logging.getLogger("dispersa.relay")


class Relay:
    """Moves outbox rows to the broker, one claimed batch per transaction."""

    def __init__(self, container: Container, queues: tuple[str, ...] = ()):
        self.container = container
        self.broker: dramatiq.Broker = container.broker
        self.queues = queues  # only these queues' rows; all of them when empty

    def publish_batch(self) -> int:
        """Publish one batch; returns how many messages went out."""
        c = self.container
        with c.sessions() as session, session.begin():
            batch = claim_batch(session, c.settings.relay_batch_size, self.queues)
            for row in batch:
                message = Message(queue_name=row.queue_name, actor_name=row.actor_name, args=tuple(row.args),
                                  kwargs={}, options={}, message_id=row.message_id)
                self.broker.enqueue(message, delay=row.delay_ms)
            mark_published(session, [row.id for row in batch], c.clock())
        return len(batch)

    def drain(self) -> int:
        """Publish until the outbox is empty."""
        total = 0
        while n := self.publish_batch():
            total += n
        return total

    def run_forever(self) -> None:
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("relay started")
        while not stopping:
            try:
                if self.publish_batch() == 0:
                    time.sleep(self.container.settings.relay_idle_seconds)
            except Exception:
                log.exception("relay batch failed; retrying")
                time.sleep(1)
        log.info("relay stopped")


def main() -> None:
    container = build_container()
    configure_logging(container.settings)
    Relay(container).run_forever()


if __name__ == "__main__":
    main()
