"""Resident memory of the testbed's process trees (a gunicorn master and its workers, a dramatiq parent
and its children), read from ``/proc/<pid>/status`` (VmRSS) by a thread of its own every 100 ms while a
scenario loads them: the peak of each tree's sum, and of its largest process, per window of the run."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import descends_from, process_cpu

EVERY_SECONDS = 0.1
TREE_EVERY_SECONDS = 1.0  # a tree's members are found again this often (a worker restarted, a child forked)
KIB_PER_MIB = 1024


def rss_kib(pid: int) -> int | None:
    """The process's resident set (VmRSS) in KiB; None when it is gone or unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def tree_of(root: int) -> list[int]:
    """``root`` and its descendants, by their parents in /proc."""
    table = process_cpu()
    return [pid for pid in table if descends_from(pid, root, table)] or [root]


@dataclass
class Peak:
    """One tree's memory over a window: the peak of its sum and of its largest process (KiB), the first
    sum seen, and how many processes it had at most."""

    first_kib: int | None = None
    peak_total_kib: int = 0
    peak_process_kib: int = 0
    processes: int = 0
    samples: int = 0

    def add(self, sizes: list[int]) -> None:
        """A sample: each process's RSS."""
        total = sum(sizes)
        if self.first_kib is None:
            self.first_kib = total
        self.peak_total_kib = max(self.peak_total_kib, total)
        self.peak_process_kib = max(self.peak_process_kib, max(sizes, default=0))
        self.processes = max(self.processes, len(sizes))
        self.samples += 1

    def as_dict(self) -> dict[str, Any]:
        """In MiB, for the JSON."""
        return {"start_mib": mib(self.first_kib), "peak_total_mib": mib(self.peak_total_kib),
                "peak_process_mib": mib(self.peak_process_kib), "processes": self.processes, "samples": self.samples}


def mib(kib: int | None) -> float | None:
    """KiB as MiB, to 0.1."""
    return None if kib is None else round(kib / KIB_PER_MIB, 1)


@dataclass
class RssSampler:
    """Samples each named tree (``roots``: kind -> root pid) every ``every`` seconds in a thread, into the
    current window (``window``: upload, execution, ...); ``peaks[window][kind]``."""

    roots: dict[str, int]
    every: float = EVERY_SECONDS
    window: str = "idle"
    peaks: dict[str, dict[str, Peak]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def switch(self, window: str) -> None:
        """Samples from now on go to ``window``."""
        with self._lock:
            self.window = window

    def _run(self) -> None:
        members: dict[str, list[int]] = {}
        found_at = 0.0
        while True:
            now = time.monotonic()
            if now - found_at >= TREE_EVERY_SECONDS:
                members, found_at = {kind: tree_of(root) for kind, root in self.roots.items()}, now
            with self._lock:
                window = self.peaks.setdefault(self.window, {})
                for kind, pids in members.items():
                    sizes = [size for size in (rss_kib(pid) for pid in pids) if size is not None]
                    if sizes:
                        window.setdefault(kind, Peak()).add(sizes)
            if self._stop.wait(max(0.0, self.every - (time.monotonic() - now))):
                return

    def peak_total_mib(self, kind: str, windows: tuple[str, ...] | None = None) -> float | None:
        """The highest sum of ``kind``'s tree over ``windows`` (every window when None), in MiB."""
        with self._lock:
            found = [w[kind].peak_total_kib for name, w in self.peaks.items()
                     if (windows is None or name in windows) and kind in w]
        return mib(max(found)) if found else None

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Every window's peaks, in MiB."""
        with self._lock:
            return {window: {kind: peak.as_dict() for kind, peak in kinds.items()}
                    for window, kinds in self.peaks.items()}
