"""Time sources: the wall clock every process uses, and a clock moved by hand (the demo's simulated
week, the tests)."""
from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ManualClock:
    """A clock that reads ``now`` (aware, UTC) until someone moves it."""

    def __init__(self, now: datetime):
        if now.tzinfo is None:
            raise ValueError("a clock keeps aware times")
        self.now = now.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self.now
