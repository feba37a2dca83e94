"""Progress while the run works: on a terminal a live status line, with events printed above it; piped,
plain lines — every event, and the status at most every few seconds — so that nobody waits on silence."""
from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console


class Progress:
    """Say events and update the status of the phase under way."""

    def __init__(self, console: Console, every_seconds: float = 5.0):
        self.console, self.every = console, every_seconds
        self.started = time.monotonic()
        self._last_line = 0.0
        self._lock = threading.Lock()
        self._status: Any = console.status("starting") if console.is_terminal else None
        if self._status is not None:
            self._status.start()

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self.started:5.0f}s]"

    def say(self, text: str) -> None:
        """One line, always."""
        with self._lock:
            self.console.print(f"{self._stamp()} {text}", highlight=False, markup=False, soft_wrap=True)

    def update(self, text: str) -> None:
        """The phase's status: the live line on a terminal, else a line every ``every`` seconds."""
        if self._status is not None:
            self._status.update(f"{self._stamp()} {text}")
            return
        now = time.monotonic()
        if now - self._last_line >= self.every:
            self._last_line = now
            self.say(text)

    def close(self) -> None:
        """Stop the live line."""
        if self._status is not None:
            self._status.stop()
            self._status = None
