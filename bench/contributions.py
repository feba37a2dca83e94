"""Scenario 1, contributions per second: delivered credits on daily stores (no payout interferes), their
contribute messages waiting on RabbitMQ while the worker is stopped; then the worker starts, and the
rate runs from the first contribution written to the last (the worker's start-up is not counted, as it
is not for (a))."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench import db, machine
from bench.catalog import StoreSet, deliver_in_bulk, far_from_now, sign_credits, store_set
from bench.config import CONTRIBUTIONS, CONTRIBUTIONS_MIN_RATIO
from bench.context import Run
from bench.processes import ensure_running, ensure_stopped, pid_of, roots
from bench.raw import first_to_last, rabbit, ready, wait_count
from bench.report import INCOMPLETE, Row, Threshold
from bench.stats import middle_rate, rate, ratio
from usecases import steps

STEADY_FROM = 0.1  # of the contributions written: CPU and profile are of the steady state
TARGET = Threshold("ratio", CONTRIBUTIONS_MIN_RATIO, True, f"≥ {CONTRIBUTIONS_MIN_RATIO:.0%} of (a)", "ratio")


def prepare(run: Run) -> tuple[StoreSet, int]:
    """Daily stores and their delivered credits, the contribute messages waiting on RabbitMQ."""
    bed, sizes = run.bed, run.config.sizes
    ensure_stopped(bed, "worker")
    ensure_running(bed, "web", "relay")
    run.reporter.phase(f"contributions: {sizes.stores} daily stores, {sizes.credits} credits delivered "
                       "with the worker stopped")
    stores = store_set(run, "daily", disbursement_mode="daily", automation_enabled=True, time_of_day=far_from_now())
    credit_ids = sign_credits(run.engine, stores, sizes.credits)
    with run.reporter.counting("delivered", len(credit_ids)) as update:
        deliver_in_bulk(bed, credit_ids, update)
    wait_count(run.reporter, "contribute messages published", len(credit_ids),
               lambda: len(credit_ids) - int(db.scalar(run.engine, "SELECT COUNT(*) FROM outbox WHERE "
                                                       "published_at IS NULL AND actor_name = :a",
                                                       a=steps.CONTRIBUTE.actor_name)))
    broker = rabbit(bed.env["DISPERSA_RABBITMQ_URL"], confirm=False)
    try:
        bed.wait_for(lambda: ready(broker, steps.CONTRIBUTE.queue_name) >= len(credit_ids), 60,
                     "the contribute messages on RabbitMQ")
    finally:
        broker.close()
    return stores, len(credit_ids)


def contributions_written(run: Run, stores: StoreSet) -> int:
    """How many contributions the stores have."""
    return int(db.scalar(run.engine, f"SELECT COUNT(*) FROM balance_updates WHERE store_id IN ({stores.id_list()}) "
                         "AND type = 'contribution'"))


@dataclass
class SteadyState:
    """Once a share of the contributions is written (the worker has booted and every thread has its
    connection), what the rest costs: CPU by process, and a profile when asked for."""

    run: Run
    total: int
    done_at_start: int | None = None
    cpu_at_start: dict[str, int] = field(default_factory=dict)

    def __call__(self, done: int) -> None:
        """Told each count; starts measuring at the share."""
        if self.done_at_start is None and done >= self.total * STEADY_FROM:
            self.done_at_start, self.cpu_at_start = done, machine.cpu_snapshot(roots(self.run.bed))
            self.run.profiler.start(CONTRIBUTIONS, pid_of(self.run.bed, "worker"), "worker")

    def cpu_ms_per_contribution(self, done: int) -> dict[str, float]:
        """CPU per contribution since the start, by process (MariaDB's is every client's)."""
        self.run.profiler.stop(CONTRIBUTIONS)
        if self.done_at_start is None:
            return {}
        after = machine.cpu_snapshot(roots(self.run.bed))
        return machine.cpu_ms_per_item(self.cpu_at_start, after, done - self.done_at_start)


def drain(run: Run, stores: StoreSet, count: int) -> tuple[int, float, dict[str, int], dict[str, float]]:
    """Start the worker on the waiting messages and wait for every contribution. Returns how many were
    written, the seconds from the worker's start, how much the server's counters grew meanwhile, and
    the CPU per contribution in the steady state."""
    before = db.server_counters(run.engine)
    started = time.time()
    run.bed.start("worker")
    steady = SteadyState(run, count)
    done = wait_count(run.reporter, "contributions written", count, lambda: contributions_written(run, stores),
                      on_update=steady)
    cpu = steady.cpu_ms_per_contribution(done)
    return done, time.time() - started, db.counter_deltas(before, db.server_counters(run.engine)), cpu


def measure(run: Run) -> Row:
    """Prepare, drain, and read the contributions' times back."""
    stores, count = prepare(run)
    config = run.config
    run.reporter.phase(f"contributions: worker started ({config.processes} x {config.threads}), draining {count}")
    done, wall, counters, cpu = drain(run, stores, count)
    times = db.epochs(run.engine, f"SELECT created_at FROM balance_updates WHERE store_id IN ({stores.id_list()}) "
                      "AND type = 'contribution'")
    value = first_to_last(times)
    row = Row(CONTRIBUTIONS, "1. contributions", "/s", value, ratio(value, run.raw_insert_rate),
              figures={"from_worker_start_per_s": rate(done, wall)}, thresholds=(TARGET,),
              note=f"{count} credits, {len(stores.stores)} daily stores",
              details={"credits": count, "done": done, "stores": len(stores.stores),
                       "wall_seconds_from_worker_start": round(wall, 2), "rate_10_to_90_pct": middle_rate(times),
                       "server_counters_per_contribution": db.per_item(counters, done),
                       "cpu_ms_per_contribution_steady": cpu,
                       "server_counters_note": "global counters of the server: every client's statements"})
    if done < count:
        row.status = INCOMPLETE
    return row
