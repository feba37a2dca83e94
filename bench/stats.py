"""The arithmetic of the bench: percentiles, rates and ratios. Pure, so that it is unit-tested."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks (numpy's default);
    None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(count: int, seconds: float) -> float | None:
    """``count`` per second over ``seconds``; None when the time is not positive."""
    return count / seconds if seconds > 0 else None


def steady_rate(first: float, last: float, count: int) -> float | None:
    """Items per second between the first and the last of ``count`` timestamps (seconds): ``count - 1``
    intervals, so that a process's start-up before the first item is not counted."""
    if count < 2:
        return None
    return rate(count - 1, last - first)


def middle_rate(times: Sequence[float], low: float = 0.1, high: float = 0.9) -> float | None:
    """Items per second between the ``low`` and ``high`` fractions of the items (by time): the steady
    state, without the warm-up (threads opening connections) or the tail (the last threads finishing)."""
    ordered = sorted(times)
    if len(ordered) < 10:
        return None
    first, last = int(low * (len(ordered) - 1)), int(high * (len(ordered) - 1))
    return rate(last - first, ordered[last] - ordered[first])


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``; None when either is missing or the base is not positive."""
    if value is None or base is None or base <= 0:
        return None
    return value / base


@dataclass(frozen=True)
class Latency:
    """A latency distribution in milliseconds."""

    count: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        """The figures, rounded to 0.1 ms, for the JSON."""
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def latency(values_ms: Sequence[float]) -> Latency:
    """p50, p90, p99, max and mean of latencies in milliseconds."""
    if not values_ms:
        return Latency(0, None, None, None, None, None)
    return Latency(len(values_ms), percentile(values_ms, 50), percentile(values_ms, 90), percentile(values_ms, 99),
                   max(values_ms), sum(values_ms) / len(values_ms))


def per_unit(seconds: float, count: int, unit: int) -> float | None:
    """Seconds per ``unit`` items, from ``seconds`` for ``count`` items (ledger verify per 100k)."""
    return seconds * unit / count if count > 0 else None
