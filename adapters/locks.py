"""Short Redis locks, so that two schedulers do not both run the same tick."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Any, Iterator

RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


@contextmanager
def held(redis: Any, name: str, ttl_seconds: int) -> Iterator[bool]:
    """Yield True if this process got the lock; it is released (only by its owner) on exit."""
    token = uuid.uuid4().hex
    got = bool(redis.set(f"dispersa:lock:{name}", token, nx=True, ex=ttl_seconds))
    try:
        yield got
    finally:
        if got:
            redis.eval(RELEASE, 1, f"dispersa:lock:{name}", token)
