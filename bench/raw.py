"""This machine's raw limits, measured first in the same run: (a) a bare Dramatiq actor doing one INSERT
and COMMIT per message, (b) bare publishing (with publisher confirms, as the relay publishes) and
consuming with a no-op actor, both on RabbitMQ, each actor run by the dramatiq CLI with the worker's
processes x threads."""
from __future__ import annotations

import shlex
import time
from typing import Any, Callable

from sqlalchemy import Engine

from bench import db
from bench.config import RAW_INSERT_QUEUE, RAW_NOOP_QUEUE, RAW_TABLE, BenchConfig
from bench.progress import Reporter
from bench.report import INCOMPLETE, Row
from bench.stats import middle_rate, rate, steady_rate
from testbed import Testbed

STALL_SECONDS = 60  # no progress for this long ends a measurement as incomplete


def rabbit(url: str, confirm: bool) -> Any:
    """A Dramatiq RabbitMQ broker of the bench's vhost, only for publishing."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    return RabbitmqBroker(url=url, confirm_delivery=confirm)


def publish(broker: Any, queue: str, count: int, update: Callable[[int], None] = lambda n: None) -> float:
    """Enqueue ``count`` messages for the bare actor of ``queue``; returns the seconds it took."""
    from dramatiq import Message

    broker.declare_queue(queue)
    started = time.perf_counter()
    for n in range(count):
        broker.enqueue(Message(queue_name=queue, actor_name=queue, args=(n,), kwargs={}, options={}))
        if n % 500 == 0:
            update(n)
    update(count)
    return time.perf_counter() - started


def ready(broker: Any, queue: str) -> int:
    """Messages ready on ``queue`` (not yet delivered to a consumer)."""
    ready_count, _, _ = broker.get_queue_message_counts(queue)
    return int(ready_count)


def raw_worker_argv(config: BenchConfig, queue: str) -> list[str]:
    """The dramatiq CLI on the bare actors' module, with the worker's processes and threads, on one queue."""
    return ["dramatiq", "bench.raw_actors", "--processes", str(config.processes), "--threads", str(config.threads),
            "--queues", shlex.quote(queue)]


def measure_insert_actor(bed: Testbed, engine: Engine, config: BenchConfig, reporter: Reporter) -> Row:
    """(a): messages waiting on RabbitMQ, then the bare actor started; inserts per second between the
    first and the last row (the worker's start-up is not counted, nor is it in the scenarios)."""
    count = config.sizes.raw_messages
    db.execute(engine, f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
               "n BIGINT NOT NULL, at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
               f"TRUNCATE TABLE {RAW_TABLE}")
    broker = rabbit(bed.env["DISPERSA_RABBITMQ_URL"], confirm=False)
    try:
        reporter.phase(f"(a) bare insert actor: {count} messages onto RabbitMQ")
        publish(broker, RAW_INSERT_QUEUE, count)
        bed.wait_for(lambda: ready(broker, RAW_INSERT_QUEUE) >= count, 60, "the raw insert messages on RabbitMQ")
    finally:
        broker.close()
    reporter.phase(f"(a) bare insert actor: draining with {config.processes} x {config.threads}")
    started = time.time()
    bed.start("raw-insert", raw_worker_argv(config, RAW_INSERT_QUEUE))
    try:
        done = wait_count(reporter, "rows inserted", count,
                          lambda: int(db.scalar(engine, f"SELECT COUNT(*) FROM {RAW_TABLE}")))
    finally:
        bed.processes["raw-insert"].stop()
    times = db.epochs(engine, f"SELECT at FROM {RAW_TABLE}")
    wall = time.time() - started
    row = Row("raw_insert", "(a) bare actor, INSERT + COMMIT", "msg/s", first_to_last(times), ratio=1.0,
              figures={"from_worker_start_per_s": rate(done, wall)},
              note=f"{config.processes} x {config.threads}, PyMySQL",
              details={"messages": count, "done": done, "wall_seconds_from_start": round(wall, 2),
                       "rate_10_to_90_pct": middle_rate(times)})
    if done < count:
        row.status = INCOMPLETE
    return row


def measure_publish_consume(bed: Testbed, config: BenchConfig, reporter: Reporter) -> list[Row]:
    """(b): publishing with confirms from one connection, then consuming with a no-op actor."""
    count = config.sizes.raw_messages
    broker = rabbit(bed.env["DISPERSA_RABBITMQ_URL"], confirm=True)
    try:
        reporter.phase(f"(b) bare publish: {count} messages with publisher confirms")
        with reporter.counting("published", count) as update:
            seconds = publish(broker, RAW_NOOP_QUEUE, count, update)
        published = Row("raw_publish", "(b) bare publish", "msg/s", rate(count, seconds),
                        note="1 connection, confirms, as the relay",
                        details={"messages": count, "seconds": round(seconds, 3)})
        reporter.phase(f"(b) no-op actor: draining with {config.processes} x {config.threads}")
        consumed = measure_consume(bed, broker, config, reporter, count)
    finally:
        broker.close()
    return [published, consumed]


def measure_consume(bed: Testbed, broker: Any, config: BenchConfig, reporter: Reporter, count: int) -> Row:
    """The no-op actor drains ``count`` waiting messages; timed from the first one taken to the queue's
    end (messages prefetched but not yet acknowledged at the end are a few dozen at most)."""
    bed.start("raw-noop", raw_worker_argv(config, RAW_NOOP_QUEUE))
    first = last = None
    try:
        with reporter.counting("consumed", count) as update:
            deadline = time.monotonic() + STALL_SECONDS
            while time.monotonic() < deadline:
                left = ready(broker, RAW_NOOP_QUEUE)
                now = time.time()
                if left < count and first is None:
                    first = now
                update(count - left)
                if left == 0:
                    last = now
                    break
                time.sleep(0.02)
    finally:
        bed.processes["raw-noop"].stop()
    value = rate(count, last - first) if first is not None and last is not None else None
    return Row("raw_consume", "(b) bare consume, no-op actor", "msg/s", value,
               note=f"{config.processes} x {config.threads}",
               status="measured" if value is not None else INCOMPLETE, details={"messages": count})


def first_to_last(times: list[float]) -> float | None:
    """Items per second from the first item's time to the last's."""
    return steady_rate(min(times), max(times), len(times)) if times else None


def wait_count(reporter: Reporter, what: str, total: int, count: Callable[[], int],
               stall_seconds: float = STALL_SECONDS, every: float = 0.1,
               on_update: Callable[[int], None] | None = None, deadline: float = float("inf")) -> int:
    """Poll ``count`` until it reaches ``total``, showing progress (and telling ``on_update``); gives up
    after ``stall_seconds`` without progress, or after ``deadline`` seconds. Returns the last count."""
    done = 0
    started = moved_at = time.monotonic()
    with reporter.counting(what, total) as update:
        while (done < total and time.monotonic() - moved_at < stall_seconds
               and time.monotonic() - started < deadline):
            time.sleep(every)
            now_done = count()
            if now_done != done:
                done, moved_at = now_done, time.monotonic()
            update(done)
            if on_update is not None:
                on_update(done)
    return done
