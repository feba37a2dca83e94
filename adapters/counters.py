"""Counts per minute, shared by every web process through Redis (in process when Redis is down)."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime
from typing import Any, Callable

log = logging.getLogger("dispersa.counters")


class MinuteCounter:
    """How many times something happened in a wall-clock minute, across processes."""

    def __init__(self, redis: Callable[[], Any], name: str):
        self._redis, self._name = redis, name
        self._local: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _key(self, minute: str) -> str:
        return f"dispersa:count:{self._name}:{minute}"

    def add(self, at: datetime) -> int:
        """Count one at ``at``; returns the minute's count so far."""
        minute = at.strftime("%Y%m%dT%H%M")
        try:
            with self._redis().pipeline() as pipe:
                pipe.incr(self._key(minute))
                pipe.expire(self._key(minute), 2 * 24 * 3600)
                return int(pipe.execute()[0])
        except Exception as e:  # counting must never take the caller down
            log.warning("counting %s in process: Redis unavailable (%r)", self._name, e)
            with self._lock:
                self._local[minute] += 1
                return self._local[minute]

    def of(self, minute: datetime) -> int:
        """The count of the minute ``minute`` falls in."""
        key = minute.strftime("%Y%m%dT%H%M")
        try:
            return int(self._redis().get(self._key(key)) or 0)
        except Exception:
            with self._lock:
                return self._local[key]
