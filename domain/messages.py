"""Steps: where a message goes, and what makes two messages the same one.

A step names the actor that handles its messages and the queue they live on. Its first ``key_args``
arguments name the business thing the message is about (a credit, a store's period, an order); two
messages with the same step and key are one message, unless the second is sent again on purpose on
another ``occasion`` (a sweep's window, a reconciliation run)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Step:
    """A message's destination, and its business key."""

    actor_name: str
    queue_name: str
    key_args: int = 1
    about: str | None = None  # what its first argument is, for the log lines of its work: "uetr", "batch_id"

    def dedupe_key(self, args: Sequence[Any], occasion: str | None = None) -> str:
        """``evaluate_trigger:7:daily:2026-11-24``; with an occasion, ``…@sweep-20261124T10``."""
        key = ":".join([self.actor_name, *(str(a) for a in args[: self.key_args])])
        return f"{key}@{occasion}" if occasion else key
