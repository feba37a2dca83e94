"""The in-process rate limit of the embedded stack (the Redis one is tested against Redis)."""
from __future__ import annotations

from adapters.ratelimit import LocalRateLimiter


class Time:
    def __init__(self, now: float):
        self.now, self.slept = now, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_calls_beyond_the_cap_wait_for_the_next_second():
    t = Time(100.25)
    limiter = LocalRateLimiter(3, sleep=t.sleep, now=t)
    for _ in range(7):
        limiter.acquire()
    assert t.slept == [0.75, 1.0]  # 3 in second 100, 3 in 101, the 7th in 102
    assert int(t.now) == 102


def test_a_cap_of_zero_means_no_limit():
    t = Time(0.0)
    limiter = LocalRateLimiter(0, sleep=t.sleep, now=t)
    for _ in range(100):
        limiter.acquire()
    assert t.slept == []
