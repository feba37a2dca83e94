"""The in-process rate limit of the embedded stack (the Redis one is tested against Redis)."""
from __future__ import annotations

from adapters.ratelimit import LocalRateLimiter
from tests.fakes import SteppingTime


def test_calls_beyond_the_cap_wait_for_the_next_second():
    t = SteppingTime(100.25)
    limiter = LocalRateLimiter(3, sleep=t.sleep, now=t)
    for _ in range(7):
        limiter.acquire()
    assert t.slept == [0.75, 1.0]  # 3 in second 100, 3 in 101, the 7th in 102
    assert int(t.now) == 102


def test_a_cap_of_zero_means_no_limit():
    t = SteppingTime(0.0)
    limiter = LocalRateLimiter(0, sleep=t.sleep, now=t)
    for _ in range(100):
        limiter.acquire()
    assert t.slept == []
