"""GET /metrics: the gauges operations alert on, in Prometheus's text format, read afresh at each scrape.

The worker processes export their own counters (messages processed, failed, retried and dead per actor,
and how long each took) on a port of their own; this is the system's state as the database and the
broker see it. A source that cannot be read is reported down (``dispersa_metrics_source_up``), never
as a failed scrape."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from adapters.counters import MinuteCounter
from adapters.db.uow import UnitOfWork
from usecases.metrics import OperationsSnapshot, snapshot

log = logging.getLogger("dispersa.metrics")
UowFactory = Callable[[], UnitOfWork]
QueueDepths = Callable[[], Mapping[str, int]]


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    family.add_metric([], value)
    return family


def _labelled(name: str, doc: str, label: str, values: Mapping[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _stamp(at: datetime | None) -> float:
    """A time as Prometheus gauges keep it; 0 for never."""
    return at.timestamp() if at is not None else 0.0


def database_families(s: OperationsSnapshot) -> Iterator[GaugeMetricFamily]:
    """The database's gauges, as Prometheus metric families."""
    yield _gauge("dispersa_outbox_unpublished", "Messages recorded in the outbox and not yet published.",
                 s.outbox_unpublished)
    yield _gauge("dispersa_outbox_oldest_unpublished_age_seconds",
                 "Age of the oldest outbox message not yet published (0 when none waits).",
                 s.outbox_oldest_age_seconds)
    yield _labelled("dispersa_payment_orders", "Payment orders by status.", "status", s.payment_orders)
    yield _labelled("dispersa_transfers", "Bank transfers by status.", "status", s.transfers)
    yield _labelled("dispersa_webhook_events", "Bank callbacks received, by what became of them.", "result",
                    s.bank_events)
    yield _labelled("dispersa_dead_letters", "Dead letters by status (dead ones wait for treasury).", "status",
                    s.dead_letters)
    yield _gauge("dispersa_alerts_last_hour", "ALERT events written in the last hour.", s.alerts_last_hour)
    yield _gauge("dispersa_reconciliation_last_mismatches", "Mismatches found by the latest reconciliation run.",
                 s.reconciliation_mismatches)
    yield _gauge("dispersa_reconciliation_last_run_timestamp_seconds", "When the latest reconciliation ran (0: never).",
                 _stamp(s.reconciliation_at))
    yield _gauge("dispersa_ledger_check_last_violations", "Violations found by the latest ledger check.",
                 s.ledger_violations)
    yield _gauge("dispersa_ledger_check_last_run_timestamp_seconds", "When the latest ledger check ran (0: never).",
                 _stamp(s.ledger_checked_at))


class OperationsCollector(Collector):
    """Reads the database, the broker's queues and the webhook's refusal counter at each scrape."""

    def __init__(self, uow: UowFactory, depths: QueueDepths, refusals: MinuteCounter,
                 clock: Callable[[], datetime]):
        self._uow, self._depths, self._refusals, self._clock = uow, depths, refusals, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("dispersa_metrics_source_up", "Whether a source of these metrics could be read.",
                               labels=["source"])
        yield from self._read("database", up, self._database)
        yield from self._read("broker", up, self._queues)
        yield from self._read("redis", up, self._webhook_refusals)
        yield up

    def _read(self, source: str, up: GaugeMetricFamily, read: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        try:
            families = list(read())
        except Exception as e:  # a scrape must answer, whatever is down
            log.warning("metrics: %s unreadable: %r", source, e)
            up.add_metric([source], 0)
            return
        up.add_metric([source], 1)
        yield from families

    def _database(self) -> Iterator[GaugeMetricFamily]:
        with self._uow() as uow:
            reading = snapshot(uow)
        yield from database_families(reading)

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        yield _labelled("dispersa_queue_messages", "Messages ready in each queue, its delay queue (.DQ) and its "
                        "dead-letter queue (.XQ).", "queue", self._depths())

    def _webhook_refusals(self) -> Iterator[GaugeMetricFamily]:
        yield _gauge("dispersa_webhook_refusals_last_minute", "Webhook calls refused (no or a wrong secret) in the "
                     "current minute.", self._refusals.of(self._clock()))


class MetricsResource:
    """GET /metrics, in Prometheus's text exposition format. No key: block it at the reverse proxy."""

    def __init__(self, collector: Collector):
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(collector)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(self._registry)
