"""A timetable of tasks for the sandbox's simulated rails: what is due later, and what runs right away.

One thread runs the tasks that are due, earliest first (tasks due at the same instant run in the order
they were scheduled); tasks to run right away go to a small pool of threads, so that no slow HTTP call
holds up the timetable. Every task scheduled or submitted and not yet finished counts as outstanding,
which `Timetable.wait_idle` waits on. Once stopping, new tasks are dropped, and so is what is still
due; a task that fails is logged and counts as finished.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

log = logging.getLogger(__name__)

Task = Callable[[], None]


class Timetable:
    """Due tasks on one thread (``at``, ``later``), immediate ones on a pool (``submit``), and their count.

    ``thread_name`` names the timetable's thread, ``pool_name`` prefixes the names of the pool's
    ``workers`` threads; a task that fails is logged to ``logger`` as ``sandbox <label> task failed``.
    """

    def __init__(self, thread_name: str, pool_name: str, workers: int, label: str,
                 logger: logging.Logger | None = None) -> None:
        self._label, self._log = label, logger or log
        self._heap: list[tuple[float, int, Task]] = []
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._outstanding = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=pool_name)

    def start(self) -> None:
        """Start the thread that runs what is due."""
        self._thread.start()

    def stop(self) -> None:
        """Drop what is still due and what comes next, let the tasks in progress finish, end every thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no task is due or running; returns whether that happened within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._outstanding == 0, timeout)

    def at(self, due: float, task: Task) -> None:
        """Run ``task`` on the timetable's thread once ``time.monotonic()`` reaches ``due`` (never once stopping)."""
        with self._changed:
            if self._stopping:
                return
            heapq.heappush(self._heap, (due, next(self._sequence), task))
            self._outstanding += 1
            self._changed.notify_all()

    def later(self, delay_seconds: float, task: Task) -> None:
        """Run ``task`` on the timetable's thread once ``delay_seconds`` passed (never once stopping)."""
        self.at(time.monotonic() + delay_seconds, task)

    def submit(self, task: Task) -> None:
        """Run ``task`` on the pool right away (never once stopping)."""
        with self._changed:
            if self._stopping:
                return
            self._outstanding += 1
        try:
            self._pool.submit(self._finishing, task)
        except RuntimeError:    # the pool shut down meanwhile
            self._finished()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._changed.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopping:
                    return
                task = heapq.heappop(self._heap)[2]
            self._finishing(task)

    def _finishing(self, task: Task) -> None:
        try:
            task()
        except Exception:
            self._log.exception("sandbox %s task failed", self._label)
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._changed:
            self._outstanding -= 1
            self._changed.notify_all()
