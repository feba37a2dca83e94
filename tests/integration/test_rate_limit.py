"""The gateway's rate limit is shared through Redis: two limiters (two workers) share one cap."""
from __future__ import annotations

import redis

from adapters.ratelimit import RateLimiter
from tests.conftest import TEST_REDIS_URL
from tests.fakes import SteppingTime


def test_two_workers_share_one_cap_per_second():
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    t = SteppingTime(1_000_000.5)
    first = RateLimiter(client, "stp-test", 4, sleep=t.sleep, now=t)
    second = RateLimiter(client, "stp-test", 4, sleep=t.sleep, now=t)
    for limiter in (first, second, first, second):
        limiter.acquire()
    assert t.slept == []
    first.acquire()  # the fifth call in this second, whoever makes it, waits for the next
    assert t.slept == [0.5]
    second.acquire()
    assert t.slept == [0.5]
    assert int(client.get(f"dispersa:rate:stp-test:{int(t.now)}")) == 2
    client.flushdb()
