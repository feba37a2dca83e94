"""Makes each accepted order's planned outcomes happen on time, and reports them to the webhook.

One scheduler thread keeps a timetable (a `sandbox.timetable.Timetable`); webhook calls run on its small
pool of threads. A callback that gets no 2xx (or no connection) is retried with exponential backoff up to
the scenario's attempts. An order's callbacks go out one after another, in the plan's order, as STP's
notification queue does.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from .books import BookedOrder, Books
from .config import SandboxConfig
from .scenarios import RETURNED, Plan, Scenario, styled
from .timetable import Timetable

log = logging.getLogger(__name__)


@dataclass
class _Journey:
    """One order on its way: its plan, when it was accepted, and the callbacks' bodies once known."""

    order_id: int
    plan: Plan
    accepted_at: float
    first_sent: threading.Event
    payloads: dict[int, dict[str, Any]] = field(default_factory=dict)

    def due(self, offset_ms: float) -> float:
        return self.accepted_at + offset_ms / 1000


class Notifier:
    """Runs the timetable of every order's outcomes and webhook callbacks."""

    def __init__(self, books: Books, config: SandboxConfig, scenario: Scenario) -> None:
        self._books, self._config, self._scenario = books, config, scenario
        self._timetable = Timetable("stp-sandbox-notifier", "stp-sandbox-webhook", config.webhook_workers,
                                    "notifier", log)
        self._lock = threading.Lock()
        self._waiting: set[threading.Event] = set()
        url = config.webhook_url or ""
        # loading the CA bundle is slow, and a plain http:// webhook never needs it
        self._http = httpx.Client(timeout=config.webhook_timeout_seconds, verify=url.startswith("https://"))

    def start(self) -> None:
        """Start the timetable."""
        self._timetable.start()

    def stop(self) -> None:
        """Drop what is still scheduled, finish calls in progress, release waiting answers."""
        with self._lock:
            waiting, self._waiting = list(self._waiting), set()
        for event in waiting:
            event.set()
        self._timetable.stop()
        self._http.close()

    def follow(self, order: BookedOrder, plan: Plan) -> threading.Event:
        """Schedule the order's outcomes and callbacks; the event is set once its first callback was tried."""
        journey = _Journey(order.id, plan, time.monotonic(), threading.Event())
        with self._lock:
            self._waiting.add(journey.first_sent)
        for index, report in enumerate(plan.reports):
            self._timetable.at(journey.due(report.happens_ms), partial(self._happen, journey, index))
        if self._config.webhook_url and plan.callbacks:
            self._timetable.at(journey.due(plan.callbacks[0].not_before_ms), partial(self._send, journey, 0))
        return journey.first_sent

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is scheduled or being delivered; returns whether that happened in time."""
        return self._timetable.wait_idle(timeout)

    def forget(self, event: threading.Event) -> None:
        """Stop tracking an answer's event (`follow`'s): the answer no longer waits on it."""
        with self._lock:
            self._waiting.discard(event)

    # -- outcomes and callbacks ------------------------------------------------------------------------

    def _happen(self, journey: _Journey, index: int) -> None:
        estado = journey.plan.reports[index].estado
        causa = journey.plan.causa_devolucion if estado == RETURNED else None
        order = self._books.settle(journey.order_id, estado, self._now_ms(), causa)
        journey.payloads[index] = self._payload(order, estado)
        if not self._config.webhook_url:
            journey.first_sent.set()

    def _payload(self, order: BookedOrder, estado: str) -> dict[str, Any]:
        return {"id": order.id, "empresa": order.empresa, "folioOrigen": order.fields.get("folioOrigen") or None,
                "estado": styled(estado, self._config.estado_style),
                "causaDevolucion": order.causa_devolucion if estado == RETURNED else None,
                "tsLiquidacion": order.ts_liquidacion}

    def _send(self, journey: _Journey, position: int) -> None:
        callback = journey.plan.callbacks[position]
        if callback.report not in journey.payloads:    # its outcome is due at the same instant: run it first
            self._timetable.later(0.005, partial(self._send, journey, position))
            return
        estado = journey.plan.reports[callback.report].estado
        delivery = self._books.add_delivery(journey.order_id, estado, callback.copy)
        self._timetable.submit(partial(self._attempt, journey, position, delivery, 1))

    def _attempt(self, journey: _Journey, position: int, delivery: int, attempt: int) -> None:
        status = self._post(journey.payloads[journey.plan.callbacks[position].report])
        delivered = status is not None and 200 <= status < 300
        gave_up = not delivered and attempt >= self._scenario.webhook_attempts
        self._books.record_attempt(journey.order_id, delivery, status, delivered, gave_up)
        journey.first_sent.set()
        if delivered or gave_up:
            if gave_up:
                log.warning("sandbox gave up calling the webhook for order %s after %s attempts",
                            journey.order_id, attempt)
            self._next(journey, position + 1)
        else:
            retry = partial(self._attempt, journey, position, delivery, attempt + 1)
            self._timetable.later(self._backoff(attempt), partial(self._timetable.submit, retry))

    def _next(self, journey: _Journey, position: int) -> None:
        if position < len(journey.plan.callbacks):
            due = max(time.monotonic(), journey.due(journey.plan.callbacks[position].not_before_ms))
            self._timetable.at(due, partial(self._send, journey, position))

    def _post(self, payload: dict[str, Any]) -> int | None:
        headers = {"X-Webhook-Secret": self._config.webhook_secret} if self._config.webhook_secret else {}
        try:
            return self._http.post(self._config.webhook_url or "", json=payload, headers=headers).status_code
        except httpx.HTTPError as error:
            log.debug("sandbox webhook call failed: %s", error)
            return None

    def _backoff(self, attempt: int) -> float:
        first, longest = self._scenario.backoff_ms
        return float(min(first * 2 ** (attempt - 1), longest) / self._config.speed / 1000)

    def _now_ms(self) -> int:
        return int(self._config.clock().timestamp() * 1000)
