"""The brokers' dead-letter queues (``<queue>.XQ``), emptied into the dead letter table.

RabbitMQ cannot take one message out of the middle of a queue, so each drain reads every copy in each
XQ once: a copy the table has (or has now recorded) is acknowledged and gone; one it must wait for is
put back when the pass is over."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Protocol

import dramatiq
from dramatiq.common import q_name, xq_name

from domain.dead_letters import DeadMessage, QueuedCopy, error_of

log = logging.getLogger("dispersa.dead_letters")
Absorb = Callable[[QueuedCopy], bool]  # True: the copy may go


class DeadLetterQueues(Protocol):
    """Where a broker keeps the messages that died."""

    def drain(self, absorb: Absorb) -> int:
        """Offer every copy to ``absorb``; remove those it takes. Returns how many were removed."""
        ...


def copy_of(message: dramatiq.Message[Any], queued_at: datetime | None) -> QueuedCopy:
    """A dead-lettered dramatiq message as the dead letter table keeps it."""
    traceback = str(message.options.get("traceback") or "")
    dead = DeadMessage(message.message_id, q_name(message.queue_name), message.actor_name, list(message.args),
                       int(message.options.get("retries", 0)) + 1, error_of(traceback) if traceback else
                       "dead-lettered (its last error was not kept with the message)", traceback,
                       queued_at or datetime.now(timezone.utc))
    return QueuedCopy(dead, queued_at)


def _death_time(properties: Any) -> datetime | None:
    deaths = (getattr(properties, "headers", None) or {}).get("x-death") or []
    at = deaths[0].get("time") if deaths else None
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return None


class RabbitmqDeadLetterQueues:
    """The XQ of each of the broker's queues, read with a connection of its own."""

    def __init__(self, url: str, queues: Callable[[], Iterable[str]]):
        self._url = url
        self._queues = queues

    def drain(self, absorb: Absorb) -> int:
        import pika

        removed = 0
        connection = pika.BlockingConnection(pika.URLParameters(self._url))
        try:
            for queue in sorted({q_name(q) for q in self._queues()}):
                removed += self._drain_one(connection, xq_name(queue), absorb)
        finally:
            connection.close()
        return removed

    def _drain_one(self, connection: Any, xq: str, absorb: Absorb) -> int:
        channel = connection.channel()
        try:
            count = channel.queue_declare(xq, passive=True).method.message_count
        except Exception:  # not declared yet: nothing has died there
            return 0
        removed, kept = 0, []
        for _ in range(count):
            method, properties, body = channel.basic_get(xq)
            if method is None:
                break
            try:
                taken = absorb(copy_of(dramatiq.Message.decode(body), _death_time(properties)))
            except Exception:
                log.exception("could not take a copy out of %s; it stays", xq)
                taken = False
            if taken:
                channel.basic_ack(method.delivery_tag)
                removed += 1
            else:
                kept.append(method.delivery_tag)
        for tag in kept:
            channel.basic_nack(tag, requeue=True)
        channel.close()
        return removed


class StubDeadLetterQueues:
    """The in-process broker's dead letters (the embedded demo)."""

    def __init__(self, broker: Any):
        self._broker = broker

    def drain(self, absorb: Absorb) -> int:
        removed = 0
        for messages in self._broker.dead_letters_by_queue.values():
            for proxy in list(messages):
                if absorb(copy_of(proxy._message, None)):
                    messages.remove(proxy)
                    removed += 1
        return removed
