"""Small stand-ins that tests share: the ledger head of a store, and a time source tests move by hand."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StoreHead:
    """The store as the ledger sees it (what domain.ledger.append needs)."""

    id: int = 1
    balance: int = 0
    last_sequence: int = 0
    currency: str = "MXN"


@dataclass
class SteppingTime:
    """``time.time`` and ``time.sleep`` for code under test: sleeping moves the time on."""

    now: float
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
