"""A per-second cap on calls to the bank gateway, shared by every worker through Redis."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable


class RateLimiter:
    """Fixed one-second windows: at most ``per_second`` acquisitions per window across all processes."""

    def __init__(self, redis: Any, name: str, per_second: int, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], float] = time.time):
        self._redis, self._name, self._limit = redis, name, per_second
        self._sleep, self._now = sleep, now

    def acquire(self, tokens: int = 1) -> None:
        """Block until this call (``tokens`` units of work, at most the limit) fits in a window."""
        if self._limit <= 0:
            return
        tokens = max(1, min(tokens, self._limit))
        while True:
            now = self._now()
            window = int(now)
            key = f"dispersa:rate:{self._name}:{window}"
            with self._redis.pipeline() as pipe:
                pipe.incrby(key, tokens)
                pipe.expire(key, 2)
                count = pipe.execute()[0]
            if count <= self._limit:
                return
            self._sleep(window + 1 - now)


class LocalRateLimiter:
    """The same cap within one process, for the embedded stack that runs without Redis."""

    def __init__(self, per_second: int, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], float] = time.time):
        self._limit, self._sleep, self._now = per_second, sleep, now
        self._lock = threading.Lock()
        self._window, self._count = -1, 0

    def acquire(self, tokens: int = 1) -> None:
        if self._limit <= 0:
            return
        tokens = max(1, min(tokens, self._limit))
        while True:
            with self._lock:
                now = self._now()
                if int(now) != self._window:
                    self._window, self._count = int(now), 0
                if self._count + tokens <= self._limit:
                    self._count += tokens
                    return
            self._sleep(int(now) + 1 - now)
