"""Scenario 3, the STP webhook: a load generator of its own (``python -m bench.loadgen``) keeps keep-alive
connections posting authenticated callbacks, each a new event (stored, its processing queued in the
outbox). The worker, relay and scheduler are stopped meanwhile, so that the figure is the web
process's (and MariaDB's) alone."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from typing import Any

from bench import db, machine
from bench.config import WEBHOOK, WEBHOOK_MAX_P99_MS, WEBHOOK_MIN_PER_SECOND
from bench.context import Run
from bench.processes import ensure_running, ensure_stopped, pid_of, roots
from bench.report import FAILED, Row, Threshold
from bench.stats import latency, rate, ratio

TARGETS = (Threshold("value", WEBHOOK_MIN_PER_SECOND, True, f"≥ {WEBHOOK_MIN_PER_SECOND:,.0f}/s", "rate"),
           Threshold("p99_ms", WEBHOOK_MAX_P99_MS, False, f"p99 < {WEBHOOK_MAX_P99_MS:,.0f} ms", "p99"))
WARMUP_SECONDS = 1.0
NO_TIME_LIMIT = 3600.0


def loadgen_argv(run: Run, out: str) -> list[str]:
    """The load generator's command line (each argument quoted: the testbed runs it through a shell)."""
    sizes = run.config.sizes
    duration = sizes.webhook_duration if sizes.webhook_duration > 0 else NO_TIME_LIMIT
    argv = [sys.executable, "-m", "bench.loadgen", "--url", f"{run.bed.web_url}/webhooks/stp/order-status",
            "--out", out, "--connections", str(sizes.webhook_connections), "--duration", str(duration),
            "--requests", str(sizes.webhook_requests), "--warmup", str(WARMUP_SECONDS)]
    return [shlex.quote(a) for a in argv]


def measure(run: Run) -> Row:
    """Run the load generator to its end and read what it saw."""
    bed, sizes = run.bed, run.config.sizes
    ensure_stopped(bed, "worker", "relay", "scheduler")
    ensure_running(bed, "web")
    limit = f"{sizes.webhook_requests} requests" if sizes.webhook_requests else f"{sizes.webhook_duration:g}s"
    run.reporter.phase(f"webhook: {sizes.webhook_connections} connections for {limit} "
                       f"({run.config.web_workers} web workers; worker, relay, scheduler stopped)")
    out = bed.workdir / "loadgen.json"
    out.unlink(missing_ok=True)
    stored_before = int(db.scalar(run.engine, "SELECT COUNT(*) FROM bank_events"))
    before, cpu_before = db.server_counters(run.engine), machine.cpu_snapshot(roots(bed))
    process = bed.start("loadgen", loadgen_argv(run, str(out)))
    with run.profiler.recording(WEBHOOK, pid_of(bed, "web"), "web"):
        wait_for_end(run, process.popen, stored_before)
    cpu_after = machine.cpu_snapshot(roots(bed))
    if process.popen.returncode != 0 or not out.exists():
        return Row(WEBHOOK, "3. webhook", "req/s", status=FAILED, thresholds=TARGETS,
                   note=f"the load generator exited {process.popen.returncode}: see {process.log}")
    seen = json.loads(out.read_text())
    stored = int(db.scalar(run.engine, "SELECT COUNT(*) FROM bank_events")) - stored_before
    row = row_of(run, seen, stored)
    row.details["server_counters_per_request"] = db.per_item(
        db.counter_deltas(before, db.server_counters(run.engine)), stored)
    row.details["cpu_ms_per_request"] = machine.cpu_ms_per_item(cpu_before, cpu_after, stored)
    row.details["cpu_ms_per_request"]["loadgen"] = round(1000 * seen.get("cpu_seconds", 0.0) / max(stored, 1), 3)
    return row


def wait_for_end(run: Run, popen: subprocess.Popen[bytes], stored_before: int) -> None:
    """Wait for the load generator, with its progress: seconds of load, or callbacks stored when it
    runs to a number of requests."""
    sizes, started = run.config.sizes, time.monotonic()
    by_requests = sizes.webhook_requests > 0
    total = sizes.webhook_requests if by_requests else int(WARMUP_SECONDS + sizes.webhook_duration)

    def progress() -> int:
        if by_requests:
            return int(db.scalar(run.engine, "SELECT COUNT(*) FROM bank_events")) - stored_before
        return int(time.monotonic() - started)

    with run.reporter.counting("callbacks stored" if by_requests else "seconds of load", total) as update:
        while popen.poll() is None:
            time.sleep(0.5)
            update(min(progress(), total))
        update(total)


def row_of(run: Run, seen: dict[str, Any], stored: int) -> Row:
    """The rate and latencies of the answers with a 2xx status."""
    ok = sum(n for status, n in seen["statuses"].items() if status.startswith("2"))
    timing = latency(seen["latencies_ms"])
    value = rate(ok, seen["window_seconds"])
    return Row(WEBHOOK, "3. webhook (STP callbacks)", "req/s", value, ratio(value, run.raw_insert_rate),
               figures={"p50_ms": timing.p50_ms, "p99_ms": timing.p99_ms}, thresholds=TARGETS,
               note=f"{seen['connections']} connections, web alone",
               details={"requests": seen["requests"], "ok": ok, "statuses": seen["statuses"], "errors": seen["errors"],
                        "window_seconds": round(seen["window_seconds"], 2), "latency": timing.as_dict(),
                        "events_stored": stored, "web_workers": run.config.web_workers})
