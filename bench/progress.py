"""Progress of a run, on stderr: a line per phase, and for long work a live bar on a terminal or a plain
line every few seconds when the output is piped or captured."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

PLAIN_EVERY_SECONDS = 5.0

Update = Callable[[int], None]  # the number of items done so far


class Reporter:
    """Says what the bench is doing while it does it."""

    def __init__(self, console: Console | None = None, live: bool | None = None):
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal if live is None else live
        self._started = time.monotonic()

    def phase(self, text: str) -> None:
        """One line: what starts now, with the time since the run began."""
        self.console.print(f"[{self.elapsed():6.1f}s] {text}", highlight=False, soft_wrap=True)

    def note(self, text: str) -> None:
        """A remark that is not a phase (a warning, a figure)."""
        self.console.print(f"         {text}", highlight=False, soft_wrap=True)

    def elapsed(self) -> float:
        """Seconds since the run began."""
        return time.monotonic() - self._started

    @contextmanager
    def counting(self, what: str, total: int) -> Iterator[Update]:
        """A count of ``total`` items: the caller calls the update with how many are done."""
        if self.live:
            with Progress(TextColumn("         {task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=self.console, transient=True) as bar:
                task = bar.add_task(what, total=total)
                yield lambda done: bar.update(task, completed=done)
            return
        yield self._plain_updates(what, total)

    @contextmanager
    def waiting(self, what: str) -> Iterator[None]:
        """Work that cannot count itself (a command running): a spinner on a terminal, otherwise a line
        every few seconds with the time it has taken."""
        if self.live:
            with self.console.status(f"         {what}"):
                yield
            return
        stop, started = threading.Event(), time.monotonic()

        def tick() -> None:
            while not stop.wait(PLAIN_EVERY_SECONDS):
                self.console.print(f"[{self.elapsed():6.1f}s]   {what}: {time.monotonic() - started:.0f}s so far",
                                   highlight=False)

        ticker = threading.Thread(target=tick, name="bench-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()

    def _plain_updates(self, what: str, total: int) -> Update:
        last, finished = [0.0], [False]

        def update(done: int) -> None:
            now = time.monotonic()
            if finished[0] or (now - last[0] < PLAIN_EVERY_SECONDS and done < total):
                return
            last[0], finished[0] = now, done >= total
            self.console.print(f"[{self.elapsed():6.1f}s]   {what}: {done}/{total}", highlight=False)
        return update
