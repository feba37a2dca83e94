"""Scenario 2, instant store payouts end to end: signed credits on instant stores are delivered through
the API at a steady offered rate, one request each, while every process runs and the sandbox liquidates
(happy scenario, STP's rate limit raised); each contribution becomes a transfer, a payment order sent to
the sandbox, a callback and a liquidation. Payouts per second are the transfers liquidated over the time
from the first delivery to the last liquidation; latencies run from a credit's ``delivered_at`` to its
order's ``sent`` (and ``liquidated``) rows in ``payment_order_status_history``."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench import db, machine
from bench.catalog import StoreSet, sign_credits, store_set
from bench.config import PAYOUTS, PAYOUTS_MAX_P99_SENT_MS, PAYOUTS_MIN_PER_SECOND
from bench.context import Run
from bench.processes import PRODUCT, ensure_running, pid_of, roots
from bench.raw import wait_count
from bench.report import INCOMPLETE, Row, Threshold
from bench.stats import latency, rate, ratio, steady_rate
from testbed import Testbed

TARGETS = (Threshold("value", PAYOUTS_MIN_PER_SECOND, True, f"≥ {PAYOUTS_MIN_PER_SECOND:,.0f}/s", "rate"),
           Threshold("p99_sent_ms", PAYOUTS_MAX_P99_SENT_MS, False,
                     f"p99 delivered→sent < {PAYOUTS_MAX_P99_SENT_MS:,.0f} ms", "p99"))
DELIVERY_THREADS = 32
FLOW_SQL = """
SELECT c.id, c.delivered_at, MIN(bu.created_at) AS contributed_at, MIN(bti.bank_transfer_id) AS transfer_id,
       MIN(bt.created_at) AS transfer_at,
       MIN(CASE WHEN h.status = 'sending' THEN h.at END) AS sending_at,
       MIN(CASE WHEN h.status = 'sent' THEN h.at END) AS sent_at,
       MIN(CASE WHEN h.status = 'liquidated' THEN h.at END) AS liquidated_at
FROM credits c
JOIN balance_updates bu ON bu.credit_id = c.id AND bu.type = 'contribution'
JOIN bank_transfer_items bti ON bti.balance_update_id = bu.id
JOIN bank_transfers bt ON bt.id = bti.bank_transfer_id
JOIN payment_orders po ON po.bank_transfer_id = bti.bank_transfer_id
JOIN payment_order_status_history h ON h.payment_order_id = po.id
WHERE c.store_id IN ({stores}) AND c.delivered_at IS NOT NULL
GROUP BY c.id, c.delivered_at
"""
HOPS = (("delivered_at", "contributed_at", "delivered -> contribution written"),
        ("contributed_at", "transfer_at", "contribution -> transfer and order opened (evaluate_trigger)"),
        ("transfer_at", "sending_at", "order opened -> Sending recorded (send_payment_order starts)"),
        ("sending_at", "sent_at", "Sending -> Sent (STP registra answered)"),
        ("sent_at", "liquidated_at", "Sent -> liquidated (sandbox callback, webhook, process_bank_event)"))


@dataclass
class Deliveries:
    """Credits delivered through the API, each at its turn on the schedule of the offered rate."""

    bed: Testbed
    credit_ids: list[int]
    per_second: float
    started: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    behind_ms: list[float] = field(default_factory=list)   # how late each request left
    request_ms: list[float] = field(default_factory=list)  # how long each request took
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False

    def run(self) -> threading.Thread:
        """Start delivering in the background; the thread ends when every credit is delivered."""
        self.started = time.monotonic() + 0.2
        threads = [threading.Thread(target=self._deliver, daemon=True) for _ in range(DELIVERY_THREADS)]
        for thread in threads:
            thread.start()
        waiter = threading.Thread(target=join_all, args=(threads,), daemon=True)
        waiter.start()
        return waiter

    def stop(self) -> None:
        """Deliver no more (the deadline passed): requests in flight end, no new one starts."""
        with self._lock:
            self._stopped = True

    def _take(self) -> int | None:
        with self._lock:
            if self._stopped or self._next >= len(self.credit_ids):
                return None
            self._next += 1
            return self._next - 1

    def _deliver(self) -> None:
        with self.bed.api() as api:
            while (i := self._take()) is not None:
                due = self.started + i / self.per_second
                time.sleep(max(0.0, due - time.monotonic()))
                sent = time.monotonic()
                status = api.post(f"/credits/{self.credit_ids[i]}/delivery").status_code
                with self._lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.behind_ms.append((sent - due) * 1000)
                    self.request_ms.append((time.monotonic() - sent) * 1000)


def join_all(threads: list[threading.Thread]) -> None:
    """Wait for every thread."""
    for thread in threads:
        thread.join()


def applied_count(run: Run, stores: StoreSet) -> int:
    """Contributions of the stores whose transfer is liquidated (their status is applied)."""
    return int(db.scalar(run.engine, f"SELECT COUNT(*) FROM balance_updates WHERE store_id IN ({stores.id_list()}) "
                         "AND type = 'contribution' AND status = 'applied'"))


def prepare(run: Run) -> tuple[StoreSet, list[int]]:
    """Instant stores with signed credits, every process running."""
    sizes = run.config.sizes
    ensure_running(run.bed, *PRODUCT)
    run.reporter.phase(f"payouts: {sizes.stores} instant stores, {sizes.payouts} credits to deliver at "
                       f"{sizes.payout_rate:g}/s")
    stores = store_set(run, "instant", disbursement_mode="instant", automation_enabled=True)
    return stores, sign_credits(run.engine, stores, sizes.payouts)


def measure(run: Run) -> Row:
    """Deliver at the offered rate, wait for every liquidation, and read the flow back from the database."""
    stores, credit_ids = prepare(run)
    deliveries = Deliveries(run.bed, credit_ids, run.config.sizes.payout_rate)
    before, cpu_before = db.server_counters(run.engine), machine.cpu_snapshot(roots(run.bed))
    with run.profiler.recording(PAYOUTS, pid_of(run.bed, "worker"), "worker"):
        waiter = deliveries.run()
        done = wait_count(run.reporter, "payouts liquidated (credits)", len(credit_ids),
                          lambda: applied_count(run, stores), every=0.25, deadline=run.config.sizes.payout_deadline)
        deliveries.stop()
        waiter.join(timeout=60)
    row = figures(run, stores, deliveries, done)
    row.details["server_counters_per_credit"] = db.per_item(
        db.counter_deltas(before, db.server_counters(run.engine)), done)
    row.details["cpu_ms_per_credit"] = machine.cpu_ms_per_item(cpu_before, machine.cpu_snapshot(roots(run.bed)), done)
    return row


def figures(run: Run, stores: StoreSet, deliveries: Deliveries, done: int) -> Row:
    """The rate and the latencies, from the rows the product wrote."""
    flows = db.rows(run.engine, FLOW_SQL.format(stores=stores.id_list()))
    delivered = [db.epoch(f.delivered_at) for f in flows]
    sent_ms = [1000 * (db.epoch(f.sent_at) - db.epoch(f.delivered_at)) for f in flows if f.sent_at]
    liquidated = [(db.epoch(f.delivered_at), db.epoch(f.liquidated_at), f.transfer_id)
                  for f in flows if f.liquidated_at]
    transfers = {t for _, _, t in liquidated}
    window = (max(end for _, end, _ in liquidated) - min(delivered)) if liquidated else 0.0
    value = rate(len(transfers), window)
    to_sent, to_liquidated = latency(sent_ms), latency([1000 * (end - start) for start, end, _ in liquidated])
    row = Row(PAYOUTS, "2. instant payouts, end to end", "/s", value, ratio(value, run.raw_insert_rate),
              figures={"p50_sent_ms": to_sent.p50_ms, "p99_sent_ms": to_sent.p99_ms,
                       "p99_liquidated_ms": to_liquidated.p99_ms},
              thresholds=TARGETS, note=note(stores, deliveries, delivered),
              details=details(deliveries, delivered, transfers, done, window, to_sent.as_dict(),
                              to_liquidated.as_dict()))
    row.details["hops_ms"] = hops(flows)
    if done < len(deliveries.credit_ids):
        row.status = INCOMPLETE
    return row


def hops(flows: list[Any]) -> dict[str, dict[str, Any]]:
    """Where a credit's time from delivery to liquidation goes, hop by hop: each hop's latency in ms
    (queueing for the relay and a worker thread included)."""
    found = {}
    for start, end, label in HOPS:
        values = [1000 * (db.epoch(getattr(f, end)) - db.epoch(getattr(f, start))) for f in flows
                  if getattr(f, start) is not None and getattr(f, end) is not None]
        found[label] = latency(values).as_dict()
    return found


def note(stores: StoreSet, deliveries: Deliveries, delivered: list[float]) -> str:
    """The offered load, as the table's note."""
    achieved = steady_rate(min(delivered), max(delivered), len(delivered)) if delivered else None
    shown = f"{achieved:,.0f}" if achieved else "—"
    return (f"{len(deliveries.credit_ids)} credits, {len(stores.stores)} stores; deliveries offered at "
            f"{deliveries.per_second:g}/s, taken at {shown}/s")


def details(deliveries: Deliveries, delivered: list[float], transfers: set[int], done: int, window: float,
            to_sent: dict[str, Any], to_liquidated: dict[str, Any]) -> dict[str, Any]:
    """The JSON's facts of the scenario."""
    credits_per_second = rate(done, window)
    return {"credits": len(deliveries.credit_ids), "credits_liquidated": done, "transfers_liquidated": len(transfers),
            "credits_per_transfer": round(done / len(transfers), 2) if transfers else None,
            "window_seconds": round(window, 2), "credits_liquidated_per_second": credits_per_second,
            "offered_per_second": deliveries.per_second,
            "delivered_per_second": steady_rate(min(delivered), max(delivered), len(delivered)) if delivered else None,
            "delivery_statuses": {str(k): v for k, v in deliveries.statuses.items()},
            "delivery_behind_schedule_p99_ms": latency(deliveries.behind_ms).p99_ms,
            "delivery_request": latency(deliveries.request_ms).as_dict(),
            "delivered_to_sent": to_sent, "delivered_to_liquidated": to_liquidated}
