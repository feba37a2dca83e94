"""The web process's API as a patient client sees it while faults are injected: a request that finds the
web down, or answers 5xx (a killed database connection), is sent again until a deadline. Every request
the run repeats is safe to repeat (credits by external id, deliveries and cancellations, adjustments by
Idempotency-Key; a repeated approval is a 409, a repeated request for a transfer now pays nothing)."""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import httpx

RETRIED_STATUSES = frozenset({500, 502, 503, 504})


class ApiError(RuntimeError):
    """The API did not answer as expected within the deadline; the message says what was asked."""


class Api:
    """An httpx client per thread with the testbed's admin key; ``call`` retries what a fault explains."""

    def __init__(self, base_url: str, key: str, deadline_seconds: float = 180):
        self._base_url, self._key, self._deadline = base_url, key, deadline_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self.retries: Counter[str] = Counter()
        self.requests = 0

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self._base_url, timeout=30,
                                  headers={"Authorization": f"Bearer {self._key}"})
            self._local.client = client
        return client

    def call(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201, 202), **kwargs: Any) -> httpx.Response:
        """Send one request until it gets an answer in ``expect``; 5xx and transport errors are retried
        with a growing pause, anything else is an ApiError."""
        deadline, pause = time.monotonic() + self._deadline, 0.1
        while True:
            why = self._attempt(method, path, expect, kwargs)
            if isinstance(why, httpx.Response):
                return why
            if time.monotonic() > deadline:
                raise ApiError(f"{method} {path}: no answer after {self._deadline:.0f}s ({why})")
            with self._lock:
                self.retries[why.split(":")[0]] += 1
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _attempt(self, method: str, path: str, expect: tuple[int, ...], kwargs: dict[str, Any]) -> httpx.Response | str:
        with self._lock:
            self.requests += 1
        try:
            response = self._client().request(method, path, **kwargs)
        except httpx.TransportError as e:
            return f"{type(e).__name__}: {e}"
        if response.status_code in expect:
            return response
        if response.status_code in RETRIED_STATUSES:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        raise ApiError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``call``, and the answer's JSON body."""
        return self.call(method, path, **kwargs).json()

    def close(self) -> None:
        """Close this thread's client (other threads' clients close when their thread ends)."""
        client = getattr(self._local, "client", None)
        if client is not None:
            client.close()
            self._local.client = None
