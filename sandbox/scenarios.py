"""Named scenarios: how the sandbox decides each accepted order's fate and how it reports it.

A scenario holds probabilities and delays (milliseconds at speed 1). For every accepted order the
sandbox draws a `Plan` from the one seeded random generator, so a seed repeats a run.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

IN_FLIGHT, LIQUIDATED, CANCELLED, RETURNED = "A", "LQ", "CN", "D"

# How some deployments spell the outcomes in callbacks and queries.
WORDS = {LIQUIDATED: "Liquidacion", CANCELLED: "Cancelacion", RETURNED: "Devolucion"}
ESTADO_STYLES = ("stp", "words")

CAUSAS_DEVOLUCION = (
    "Cuenta inexistente", "Cuenta bloqueada", "Cuenta cancelada", "Cuenta en otra divisa",
    "Cuenta no pertenece al banco receptor", "Beneficiario no reconoce el pago",
)


def styled(estado: str, style: str) -> str:
    """The estado as a deployment spells it; in-flight stays ``A`` in every style."""
    return WORDS.get(estado, estado) if style == "words" else estado


@dataclass(frozen=True)
class Scenario:
    """Probabilities and delays of one way STP can behave (delays in ms at speed 1)."""

    name: str
    liquidated: float = 1.0        # weights of an order's first outcome
    cancelled: float = 0.0
    returned: float = 0.0          # returned while still in flight
    late_return: float = 0.0       # chance a liquidated order is returned long afterwards
    outcome_ms: tuple[float, float] = (50, 200)
    late_return_ms: tuple[float, float] = (600, 1500)
    duplicate: float = 0.0         # chance each callback is delivered 2 or 3 times
    shuffle: float = 0.0           # chance an order's callbacks are delivered newest first
    early_callback: float = 0.0    # chance the registra answer waits until a callback was sent
    timeout: float = 0.0           # chance registra records the order, then answers too late
    error_5xx: float = 0.0         # chance registra answers 503 without recording anything
    webhook_attempts: int = 20
    backoff_ms: tuple[float, float] = (20, 500)   # first and longest wait between attempts

    def with_(self, **changes: Any) -> Scenario:
        return replace(self, **changes)


_MIXED: dict[str, Any] = dict(liquidated=0.6, cancelled=0.2, returned=0.2)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("happy"),
    Scenario("mixed", **_MIXED, outcome_ms=(50, 300)),
    Scenario("late-returns", late_return=0.5),
    Scenario("duplicates", liquidated=0.7, cancelled=0.1, returned=0.1, late_return=0.15, duplicate=1.0),
    Scenario("out-of-order", **_MIXED, late_return=0.4, shuffle=0.5, early_callback=0.3),
    Scenario("timeouts", timeout=0.3),
    Scenario("errors-5xx", error_5xx=0.3),
    Scenario("webhook-down", webhook_attempts=40, backoff_ms=(20, 1000)),
    Scenario("chaos", **_MIXED, late_return=0.3, duplicate=0.3, shuffle=0.3, early_callback=0.2,
             timeout=0.15, error_5xx=0.15, webhook_attempts=40, backoff_ms=(20, 1000)),
)}


def scenario_named(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


@dataclass(frozen=True)
class Report:
    """One state change of an order: when it happens (ms after the order was accepted)."""

    estado: str
    happens_ms: float


@dataclass(frozen=True)
class Callback:
    """One webhook delivery: which report, which copy, not before when (ms after acceptance)."""

    report: int
    copy: int
    not_before_ms: float


@dataclass(frozen=True)
class Plan:
    """An accepted order's fate: its reports, the callbacks in delivery order, and registra's behaviour."""

    reports: tuple[Report, ...]
    callbacks: tuple[Callback, ...]
    causa_devolucion: str | None
    early_callback: bool
    timeout: bool


def draw_plan(scenario: Scenario, rng: random.Random, speed: float = 1.0) -> Plan:
    """Draw one order's plan; every draw comes from ``rng`` in a fixed sequence."""
    early = rng.random() < scenario.early_callback
    first = rng.choices((LIQUIDATED, CANCELLED, RETURNED),
                        weights=(scenario.liquidated, scenario.cancelled, scenario.returned))[0]
    at = rng.uniform(5, 20) if early else rng.uniform(*scenario.outcome_ms)
    reports = [Report(first, at / speed)]
    if first == LIQUIDATED and rng.random() < scenario.late_return:
        reports.append(Report(RETURNED, (at + rng.uniform(*scenario.late_return_ms)) / speed))
    causa = rng.choice(CAUSAS_DEVOLUCION) if any(r.estado == RETURNED for r in reports) else None
    order = list(range(len(reports)))
    if len(reports) > 1 and rng.random() < scenario.shuffle:
        order.reverse()
    callbacks = []
    for position, index in enumerate(order):
        copies = rng.randint(2, 3) if rng.random() < scenario.duplicate else 1
        # a callback cannot be sent before the reports it follows (in delivery order) happened
        ready = max(reports[i].happens_ms for i in order[: position + 1])
        callbacks += [Callback(index, copy, ready) for copy in range(copies)]
    timeout = rng.random() < scenario.timeout
    return Plan(tuple(reports), tuple(callbacks), causa, early, timeout)
