"""Signed callbacks of the mobile-money simulators, and the timetable that makes their transfers happen.

One timetable thread (a `sandbox.timetable.Timetable`) runs what is due (a transfer completing, a
callback's next try); callbacks go out on its small pool of threads, so no HTTP answer waits for one. A
callback is a ``PUT`` of JSON to the client's callback URL with ``X-Callback-Signature``: the hex
HMAC-SHA256 of the exact body bytes, keyed with the rail's own callback secret (no signature without a
secret). One that gets no 2xx (or no connection) is tried again with exponential backoff, up to the
configured attempts. The copies of a duplicated callback go out one after another, each once the one
before was delivered or given up.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from datetime import timezone
from email.utils import format_datetime
from functools import partial
from typing import Any, Callable, Optional

import httpx

from .config import SandboxConfig
from .timetable import Timetable

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

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._timetable = Timetable(THREAD_NAME, f"{THREAD_NAME}-callback", config.webhook_workers, "mobile-money",
                                    log)
        self._lock = threading.Lock()
        self._clients: dict[bool, httpx.Client] = {}

    def start(self) -> None:
        """Start the timetable."""
        self._timetable.start()

    def stop(self) -> None:
        """Drop what is still due, finish the calls in progress, and end every thread."""
        self._timetable.stop()
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is due or being delivered; returns whether that happened in time."""
        return self._timetable.wait_idle(timeout)

    def later(self, delay_seconds: float, task: Callable[[], None]) -> None:
        """Run ``task`` on the timetable thread once ``delay_seconds`` passed (never once stopping)."""
        self._timetable.later(delay_seconds, task)

    def send(self, url: str, payload: dict[str, Any], headers: dict[str, str], report: AttemptReport,
             copies: int = 1, secret: str | None = None) -> None:
        """PUT ``payload`` to ``url`` (``copies`` times, the same bytes each time), signed with ``secret``,
        in the background."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        signed = {"Content-Type": "application/json", **headers}
        if secret:
            signed["X-Callback-Signature"] = signature(secret, body)
        self._timetable.submit(partial(self._attempt, _Callback(url, body, signed, copies, report), 0, 1))

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
                self._timetable.submit(partial(self._attempt, callback, copy + 1, 1))
        else:
            retry = partial(self._attempt, callback, copy, attempt + 1)
            self._timetable.later(self._backoff(attempt), partial(self._timetable.submit, retry))

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
        with self._lock:
            if secure not in self._clients:
                self._clients[secure] = httpx.Client(timeout=self._config.webhook_timeout_seconds, verify=secure)
            return self._clients[secure]

    def _backoff(self, attempt: int) -> float:
        first, longest = self._config.connector_callback_backoff_seconds
        return float(min(first * 2 ** (attempt - 1), longest))
