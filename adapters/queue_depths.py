"""How many messages wait in each queue, its delay queue (``.DQ``) and its dead-letter queue (``.XQ``)."""
from __future__ import annotations

from typing import Any, Iterable


def queue_depths(rabbitmq_url: str, queues: Iterable[str]) -> dict[str, int]:
    """Messages ready in each queue (name -> count); a queue not declared yet holds none."""
    import pika

    params = pika.URLParameters(rabbitmq_url)
    params.connection_attempts, params.socket_timeout, params.blocked_connection_timeout = 1, 3, 3
    connection = pika.BlockingConnection(params)
    depths: dict[str, int] = {}
    try:
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                depths[name] = _depth(connection, name)
    finally:
        connection.close()
    return depths


def _depth(connection: Any, name: str) -> int:
    channel = connection.channel()
    try:
        return int(channel.queue_declare(name, passive=True).method.message_count)
    except Exception:  # not declared: the broker closed the channel, and nothing waits there
        return 0
    finally:
        if channel.is_open:
            channel.close()
