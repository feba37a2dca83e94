"""Signed callbacks of the mobile-money simulators, and the timetable that makes their transfers happen.

One timetable thread runs what is due (a transfer completing, a callback's next try); callbacks go out
on a small pool of threads, so no HTTP answer waits for one. A callback is a ``PUT`` of JSON to the
client's callback URL with ``X-Callback-Signature``: the hex HMAC-SHA256 of the exact body bytes, keyed
with the sandbox's webhook secret (no signature without a secret). One that gets no 2xx (or no
connection) is tried again with exponential backoff, up to the configured attempts. The copies of a
duplicated callback go out one after another, each once the one before was delivered or given up.
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timezone
from email.utils import format_datetime
from functools import partial
from typing import Any, Callable, Optional

import httpx

from .config import SandboxConfig

log = logging.getLogger(__name__)

THREAD_NAME = "stp-sandbox-mobile-money"

# what one try of one copy came to: (copy, attempts so far, HTTP status or None, delivered, gave up)
AttemptReport = Callable[[int, int, Optional[int], bool, bool], None]


def signature(secret: str, body: bytes) -> str:
    """``X-Callback-Signature``: hex HMAC-SHA256 of the body bytes, keyed with the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Callback:
    """One callback: where it goes, its exact bytes and headers, how many copies, whom to tell."""

    url: str
    body: bytes
    headers: dict[str, str]
    copies: int
    report: AttemptReport


class Callbacks:
    """The mobile-money simulators' timetable and their callbacks' delivery."""

    def __init__(self, config: SandboxConfig):
        self._config = config
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._outstanding = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._pool = ThreadPoolExecutor(config.webhook_workers, thread_name_prefix=f"{THREAD_NAME}-callback")
        self._clients: dict[bool, httpx.Client] = {}

    def start(self) -> None:
        """Start the timetable."""
        self._thread.start()

    def stop(self) -> None:
        """Drop what is still due, finish the calls in progress, and end every thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._changed:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is due or being delivered; returns whether that happened in time."""
        with self._changed:
            return self._changed.wait_for(lambda: self._outstanding == 0, timeout)

    def later(self, delay_seconds: float, task: Callable[[], None]) -> None:
        """Run ``task`` on the timetable thread once ``delay_seconds`` passed (never once stopping)."""
        with self._changed:
            if self._stopping:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay_seconds, next(self._sequence), task))
            self._outstanding += 1
            self._changed.notify_all()

    def send(self, url: str, payload: dict[str, Any], headers: dict[str, str], report: AttemptReport,
             copies: int = 1) -> None:
        """PUT ``payload`` to ``url`` (``copies`` times, the same bytes each time), signed, in the background."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        signed = {"Content-Type": "application/json", **headers}
        if self._config.webhook_secret:
            signed["X-Callback-Signature"] = signature(self._config.webhook_secret, body)
        self._submit(partial(self._attempt, _Callback(url, body, signed, copies, report), 0, 1))

    # -- the timetable and the pool --------------------------------------------------------------------

    def _submit(self, task: Callable[[], None]) -> None:
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

    def _finishing(self, task: Callable[[], None]) -> None:
        try:
            task()
        except Exception:
            log.exception("sandbox mobile-money task failed")
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._changed:
            self._outstanding -= 1
            self._changed.notify_all()

    # -- one try of one copy ---------------------------------------------------------------------------

    def _attempt(self, callback: _Callback, copy: int, attempt: int) -> None:
        status = self._put(callback)
        delivered = status is not None and 200 <= status < 300
        gave_up = not delivered and attempt >= self._config.connector_callback_attempts
        callback.report(copy, attempt, status, delivered, gave_up)
        if delivered or gave_up:
            if gave_up:
                log.warning("sandbox gave up a callback to %s after %s attempts", callback.url, attempt)
            if copy + 1 < callback.copies:
                self._submit(partial(self._attempt, callback, copy + 1, 1))
        else:
            retry = partial(self._attempt, callback, copy, attempt + 1)
            self.later(self._backoff(attempt), partial(self._submit, retry))

    def _put(self, callback: _Callback) -> int | None:
        now = self._config.clock().astimezone(timezone.utc)
        headers = dict(callback.headers, **{"X-Date": format_datetime(now, usegmt=True)})
        try:
            return self._client(callback.url).put(callback.url, content=callback.body, headers=headers).status_code
        except httpx.HTTPError as error:
            log.debug("sandbox callback to %s failed: %s", callback.url, error)
            return None

    def _client(self, url: str) -> httpx.Client:
        # loading the CA bundle is slow, and a plain http:// callback never needs it
        secure = url.startswith("https://")
        with self._changed:
            if secure not in self._clients:
                self._clients[secure] = httpx.Client(timeout=self._config.webhook_timeout_seconds, verify=secure)
            return self._clients[secure]

    def _backoff(self, attempt: int) -> float:
        first, longest = self._config.connector_callback_backoff_seconds
        return float(min(first * 2 ** (attempt - 1), longest))
