"""One ``dispersa bench`` run: a testbed of its own, the raw limits, the scenarios, the table and the JSON."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from bench import bulk, cleanup, contributions, dates, ledger, loans, machine, payouts, raw, webhook
from bench.config import BULK, CONTRIBUTIONS, DATES, LOANS, PAYOUTS, RAW, VERIFY, WEBHOOK, BenchConfig
from bench.context import Run
from bench.db import bench_engine, server_version
from bench.profiling import Profiler
from bench.progress import Reporter
from bench.report import FAILED, Row, results_json, table
from testbed import PROCFILE, Testbed, free_port

SCENARIO_STEPS: tuple[tuple[str, Callable[[Run], Row]], ...] = (
    (CONTRIBUTIONS, contributions.measure), (PAYOUTS, payouts.measure), (WEBHOOK, webhook.measure),
    (VERIFY, ledger.measure), (LOANS, loans.measure),
)


TITLES = {BULK: bulk.TITLE, DATES: dates.TITLE, LOANS: loans.TITLE}


def failed_row(key: str, error: BaseException, bed: Testbed) -> Row:
    """A scenario that raised: the row says why, the JSON keeps the traceback and the processes' output."""
    return Row(key, TITLES.get(key, key), "", status=FAILED,
               note=f"{type(error).__name__}: {str(error).splitlines()[0][:200]}",
               details={"traceback": traceback.format_exc()[-4000:], "logs": bed.logs(tail=1500)})


def measure_raw(run: Run) -> list[Row]:
    """(a), then (b); (a)'s rate is what every scenario is compared with."""
    insert = raw.measure_insert_actor(run.bed, run.engine, run.config, run.reporter)
    run.raw_insert_rate = insert.value
    return [insert, *raw.measure_publish_consume(run.bed, run.config, run.reporter)]


def phase(run: Run, key: str, measure: Callable[[Run], list[Row]]) -> list[Row]:
    """One phase of the run: its rows (one that says why when it fails: the other phases' figures must
    not be lost), how long it took, and how much CPU other processes took meanwhile."""
    run.disturbance.phase = key
    started = time.monotonic()
    try:
        rows = measure(run)
    except Exception as error:
        run.reporter.note(f"{key} failed: {error!r}")
        rows = [failed_row(key, error, run.bed)]
    for row in rows:
        row.details["phase_seconds"] = round(time.monotonic() - started, 1)
    return rows


def one_row(measure: Callable[[Run], Row]) -> Callable[[Run], list[Row]]:
    """A scenario's measurement as a phase's."""
    return lambda run: [measure(run)]


def measure_all(run: Run) -> list[tuple[str, list[Row]]]:
    """The raw limits first, then each scenario asked for, each with its phase."""
    phases = [(RAW, phase(run, RAW, measure_raw))]
    for key, measure in SCENARIO_STEPS:
        if run.config.wants(key):
            phases.append((key, phase(run, key, one_row(measure))))
    if run.config.wants(BULK):
        phases.append((BULK, phase(run, BULK, bulk.measure)))
    if run.config.wants(DATES):  # last: its batch stays processing, its rows held for their days
        phases.append((DATES, phase(run, DATES, dates.measure)))
    return phases


def with_disturbance(phases: list[tuple[str, list[Row]]], disturbance: machine.Disturbance) -> list[Row]:
    """The rows, each with the share of the CPUs other processes took during its phase."""
    rows = []
    for key, phase_rows in phases:
        for row in phase_rows:
            row.others_cpu_pct = disturbance.share(key)
            rows.append(row)
    return rows


def new_testbed(config: BenchConfig, reporter: Reporter) -> Testbed:
    """A fresh database dispersa_<name>, vhost and Redis db, with the run's settings."""
    database = f"dispersa_{config.name}"
    reporter.phase(f"testbed: database {database}, RabbitMQ vhost {database}, Redis db {config.redis_db}")
    cleanup.delete_vhost(database)
    workdir = Path(tempfile.mkdtemp(prefix="dispersa-bench-"))
    settings = config.testbed_settings()
    settings.setdefault("worker_metrics_port", free_port())  # never the default port another testbed's worker has
    settings.setdefault("bulk_storage_dir", str(workdir / "batches"))  # uploads stay in the work directory
    return Testbed.create(config.name, workdir, redis_db=config.redis_db, procfile=config.procfile or PROCFILE,
                          **settings)


def tear_down(bed: Testbed, config: BenchConfig, failed: bool, reporter: Reporter) -> dict[str, Any]:
    """Remove what the run made unless asked to keep it; the work directory (logs, profiles) stays when
    kept, profiled or a scenario failed. Says what is left where."""
    database = f"dispersa_{config.name}"
    left = {"database": database, "vhost": database, "redis_db": config.redis_db, "workdir": str(bed.workdir),
            "kept": config.keep}
    if not config.keep:
        cleanup.drop_database(database)
        cleanup.delete_vhost(database)
        cleanup.flush_redis(config.redis_db)
    if config.keep or config.profile or failed:
        reporter.note(f"logs{' and profiles' if config.profile else ''} kept in {bed.workdir}"
                      + (f"; database {database} kept" if config.keep else ""))
    else:
        shutil.rmtree(bed.workdir, ignore_errors=True)
        left["workdir"] = None
    return left


def run_facts(config: BenchConfig, started: float, before: dict[str, Any], engine_version: str | None,
              testbed: dict[str, Any], profiles: dict[str, Any]) -> dict[str, Any]:
    """Where and how the run ran, for the JSON."""
    return {"started_at": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
            "duration_seconds": round(time.time() - started, 1), "command": ["dispersa", "bench", *sys.argv[2:]],
            "quick": config.quick, "machine": {**machine.facts(), "mariadb": engine_version},
            "config": {"processes": config.processes, "threads": config.threads, "web_workers": config.web_workers,
                       "sizes": vars(config.sizes), "only": list(config.only), "settings": config.settings,
                       "profile": config.profile},
            "disturbance": {"before_the_run": before},
            "testbed": testbed, "profiles": profiles}


def run_bench(config: BenchConfig, console: Console, reporter: Reporter | None = None) -> dict[str, Any]:
    """Run the bench; prints the table on ``console``, writes the JSON to ``config.out`` and returns it."""
    reporter = reporter or Reporter()
    started = time.time()
    before = machine.busy_now()
    if machine.disturbed(before):
        reporter.note(f"the machine is busy before the run ({machine.described(before)}): figures may be disturbed")
    bed = new_testbed(config, reporter)
    engine = bench_engine(bed.env["DISPERSA_DATABASE_URL"])
    run = Run(bed, engine, config, reporter, Profiler(config.profile, bed.workdir), machine.Disturbance())
    phases: list[tuple[str, list[Row]]] = []
    version = None
    run.disturbance.start()
    try:
        with bed:
            version = server_version(engine)
            phases = measure_all(run)
            run.disturbance.phase = "teardown"
    finally:
        run.disturbance.stop()
        engine.dispose()
        rows = with_disturbance(phases, run.disturbance)
        left = tear_down(bed, config, any(r.status == FAILED for r in rows), reporter)
    facts = run_facts(config, started, before, version, left, run.profiler.results)
    facts["disturbance"].update(run.disturbance.summary())
    document = results_json(facts, rows)
    config.out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    title = (f"dispersa bench{' --quick' if config.quick else ''}: worker {config.processes} x {config.threads}, "
             f"{config.web_workers} web workers, {document['duration_seconds']:.0f} s")
    console.print(table(rows, title))
    print_profiles(console, run.profiler.results)
    reporter.phase(f"results written to {config.out}")
    return document


def print_profiles(console: Console, profiles: dict[str, Any]) -> None:
    """Where the time went in each profiled scenario, a few lines each."""
    for scenario, modes in profiles.items():
        for mode, summary in modes.items():
            if "error" in summary:
                console.print(f"profile {scenario} ({mode}): {summary['error']}", highlight=False, markup=False)
                continue
            shares = ", ".join(f"{k} {v} %" for k, v in list(summary["categories_pct"].items())[:8])
            held = (f"; a GIL held by {summary['gil_held_processes']} processes on average over {summary['seconds']} s"
                    if "gil_held_processes" in summary else "")
            console.print(f"profile {scenario} ({mode}, {summary['samples']} samples): {shares}{held} "
                          f"({summary['file']})", highlight=False, markup=False, soft_wrap=True)
