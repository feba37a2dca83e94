"""Scenario 6, payment dates: what a calendar lookup costs in the process, and what a dated bulk file's
date lookups cost on the real processes.

- **cold**: the first lookup of each rail, each in a fresh Python process that imports the calendars
  alone: compiling its calendar (the ``holidays`` package's financial calendar over the supported years,
  the days it lacks, a destination's public holidays where the rail counts them), the import apart, and
  the compiling alone (the caches cleared, the holidays modules loaded);
- **warm**: ``calendar(rail, country).execution(d, now)`` and ``.delivery(d)``, each over random dates of
  every supported year on the four rails, half of them with a destination country, in this process once
  every calendar asked for is compiled; a batch of calls is timed at a time with ``perf_counter_ns`` and
  divided by its calls: the mean and the p99 per call, against the issue's 20 µs and beside the RFC's
  10 ms service (and, in the JSON, ``dates_of`` as the lookup step calls it, and a refused date);
- **a dated file**: on web, worker and relay (the scheduler stopped: its hourly release would move the
  held rows), a tenant with ``dates.enable`` and a funded MXN float, a CSV of closed-loop rows whose
  ``date`` column holds delivery dates over the next 31 days (weekends and holidays among them), sent
  with ``X-Date-Type: delivery``. The lookup step is timed by the outbox's rows: from the split's end
  (its last page queues the first lookup) to the plan (the last lookup page queues it), and apart from
  the relay's hops, the pages' own work; per row. End to end: from the 202 until the batch is processing
  with every row due today paid and the others held (it is not waited for further: they go out on their
  day). Then the rows are checked: each dated row's execution date on or before its delivery date, both
  by the rail's rules, on or before the date asked; each other row failed with DATE_NOT_MET; the rows due
  today paid (the float down by them), the others held."""
from __future__ import annotations

import gc
import hashlib
import json
import random
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

import httpx

from adapters.sealing import KEYRING
from bench import db, machine
from bench.bulk import BatchFile, Tenant, amount_minor, headers, payee, tenant_with, upload
from bench.catalog import ok
from bench.config import DATES, DATES_MAX_WARM_LOOKUP_US, DATES_RFC_SERVICE_MS
from bench.context import Run
from bench.processes import ensure_running, ensure_stopped, pid_of, roots
from bench.report import FAILED, INCOMPLETE, Row, Threshold, rounded
from bench.stats import percentile
from domain.bulk_files import COLUMNS

TITLE = "6. payment dates"
PAYMENT_MODE = "monedero"
CURRENCY = "MXN"
RAIL = "SPEI"  # MXN's rail
FLOAT = "float"
DATE_TYPE = "delivery"
DAYS_AHEAD = 31  # delivery dates from today to 30 days on
DAY_STRIDE = 7   # row i asks for today + (7 i mod 31) days: every day of the window, mixed in each page
MEXICO_CITY = ZoneInfo("America/Mexico_City")  # the product's "today" for held rows (bulk_execution.today)
CONFIG = {"payment-modes": {PAYMENT_MODE: "closedloop"}, "partylookup.enable": False, "dates.enable": True}
COUNTRIES = ("DE", "FR", "ES", "IT", "MX", "GB", "JP", "BR")  # destinations, half the warm lookups
BATCH_CALLS = 20       # calls timed together: one sample
SEED = 6
POLL_SECONDS = 0.25
STALL_SECONDS = 120.0
DEADLINE_SECONDS = 600.0
COLD_TIMEOUT = 180.0
WARM_TARGET = (Threshold("execution_p99_us", DATES_MAX_WARM_LOOKUP_US, False,
                         f"warm execution p99 ≤ {DATES_MAX_WARM_LOOKUP_US:g} µs", "execution p99"),
               Threshold("delivery_p99_us", DATES_MAX_WARM_LOOKUP_US, False,
                         f"warm delivery p99 ≤ {DATES_MAX_WARM_LOOKUP_US:g} µs", "delivery p99"))


# --- per-call figures ------------------------------------------------------------------------------


def per_call(samples_ns: Sequence[float], calls: int, total_ns: int) -> dict[str, float | int | None]:
    """Per-call figures in µs from samples that are each a batch's time divided by its calls: the mean
    over every call, the samples' p50, p99 and max."""
    if not samples_ns or calls <= 0:
        return {"calls": calls, "mean_us": None, "p50_us": None, "p99_us": None, "max_us": None}
    p50, p99 = percentile(samples_ns, 50), percentile(samples_ns, 99)
    return {"calls": calls, "samples": len(samples_ns), "mean_us": round(total_ns / calls / 1000, 3),
            "p50_us": None if p50 is None else round(p50 / 1000, 3),
            "p99_us": None if p99 is None else round(p99 / 1000, 3), "max_us": round(max(samples_ns) / 1000, 3)}


# --- in process: cold ------------------------------------------------------------------------------


COLD_CODE = """
import json, sys, time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
rail, country = sys.argv[1], sys.argv[2]
clock = time.perf_counter_ns
started = clock()
from domain import calendars as c
imported = clock()
now = datetime.now(timezone.utc)
day = now.astimezone(ZoneInfo("America/Mexico_City")).date() + timedelta(days=10)
started_first = clock()
c.calendar(rail, country).execution(day, now)
first = clock()
c.calendar(rail, country).execution(day, now)
second = clock()
c.calendar.cache_clear()
c.closed_days.cache_clear()
started_again = clock()
c.calendar(rail, country)
again = clock()
print(json.dumps({"import_ms": (imported - started) / 1e6, "first_ms": (first - started_first) / 1e6,
                  "second_us": (second - first) / 1e3, "compiled_again_ms": (again - started_again) / 1e6,
                  "closed_days": len(c.calendar(rail, country).closed), "years": [c.FIRST_YEAR, c.LAST_YEAR]}))
"""  # a fresh interpreter that imports the calendars alone: a worker process's first lookup of a rail
COLD_CASES = (("SPEI", ""), ("SEPA", ""), ("SWIFT", ""), ("FPS", ""), ("SEPA", "DE"), ("SWIFT", "MX"))


def cold_cost(rail: str, country: str = "") -> dict[str, Any]:
    """In a fresh process: the import of the calendars (the holidays package with it), the rail's first
    lookup (its calendar compiled), the second (warm), and the calendar compiled again with the caches
    cleared (the compiling alone, the holidays modules loaded). ms, the second call µs."""
    done = subprocess.run([sys.executable, "-c", COLD_CODE, rail, country], capture_output=True, text=True,
                          timeout=COLD_TIMEOUT, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"the cold lookup of {rail} {country} exited {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in found.items()}


def cold_label(rail: str, country: str) -> str:
    """"SPEI", "SEPA to DE"."""
    return f"{rail} to {country}" if country else rail


def measure_cold(run: Run) -> Row:
    """The cold row: each rail's first lookup, each in a fresh process."""
    run.reporter.phase(f"dates: cold lookups, each rail's first in a fresh process ({len(COLD_CASES)} processes)")
    cold = {cold_label(rail, country): cold_cost(rail, country) for rail, country in COLD_CASES}
    figures: dict[str, float | None] = {f"{name} first lookup_ms": c["first_ms"] for name, c in cold.items()}
    figures["compile_only_ms"] = max(c["compiled_again_ms"] for c in cold.values())
    figures["import_ms"] = max(c["import_ms"] for c in cold.values())
    years = next(iter(cold.values()))["years"]
    return Row(f"{DATES}_cold", TITLE, "ms, slowest first lookup", max(c["first_ms"] for c in cold.values()),
               figures=figures, note=f"cold: a rail's first lookup in a fresh process (its calendar compiled over "
                                     f"{years[0]}-{years[1]}); import: the calendars' module with holidays",
               details={"cold": cold})


# --- in process: warm ------------------------------------------------------------------------------


def warm_calls(count: int, seed: int = SEED) -> list[tuple[str, str, date]]:
    """``count`` (rail, country, day): random rails, half of them with a destination, days over every
    supported year (a fortnight off each end, so that no rule walks out of the calendars)."""
    from domain.calendars import FIRST_YEAR, LAST_YEAR, RAILS

    rng, rails = random.Random(seed), tuple(RAILS)
    first = date(FIRST_YEAR, 1, 15)
    span = (date(LAST_YEAR, 12, 15) - first).days
    return [(rng.choice(rails), rng.choice(COUNTRIES) if rng.random() < 0.5 else "",
             first + timedelta(days=rng.randrange(span + 1))) for _ in range(count)]


Timed = tuple[list[float], int]  # per-call ns of each sample, the total ns


def _chunks(calls: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [calls[i:i + size] for i in range(0, len(calls), size)]


def time_execution(calls: Sequence[tuple[str, str, date]], now: datetime, size: int = BATCH_CALLS) -> Timed:
    """``calendar(rail, country).execution(day, now)``, a batch at a time."""
    from domain.calendars import calendar

    clock, samples, total = time.perf_counter_ns, [], 0
    for chunk in _chunks(calls, size):
        started = clock()
        for rail, country, day in chunk:
            calendar(rail, country).execution(day, now)
        elapsed = clock() - started
        total += elapsed
        samples.append(elapsed / len(chunk))
    return samples, total


def time_delivery(calls: Sequence[tuple[str, str, date]], size: int = BATCH_CALLS) -> Timed:
    """``calendar(rail, country).delivery(day)``, a batch at a time."""
    from domain.calendars import calendar

    clock, samples, total = time.perf_counter_ns, [], 0
    for chunk in _chunks(calls, size):
        started = clock()
        for rail, country, day in chunk:
            calendar(rail, country).delivery(day)
        elapsed = clock() - started
        total += elapsed
        samples.append(elapsed / len(chunk))
    return samples, total


def time_dates_of(calls: Sequence[tuple[str, str, date]], now: datetime, size: int = BATCH_CALLS) -> Timed:
    """``dates_of(rail, currency, "delivery", day, now)``, as the lookup step calls it for each row."""
    from domain.calendars import RAILS, dates_of

    currency = {name: rail.currency for name, rail in RAILS.items()}
    shaped = [(rail, currency[rail], day) for rail, _, day in calls]
    clock, samples, total = time.perf_counter_ns, [], 0
    for chunk in _chunks(shaped, size):
        started = clock()
        for rail, money, day in chunk:
            dates_of(rail, money, DATE_TYPE, day, now)
        elapsed = clock() - started
        total += elapsed
        samples.append(elapsed / len(chunk))
    return samples, total


def time_refused(calls: Sequence[tuple[str, str, date]], now: datetime, size: int = BATCH_CALLS) -> tuple[Timed, int]:
    """``execution(day, now)`` for days already past: the DateError naming the earliest delivery date,
    raised and caught. Also how many were refused (all of them, or the figure is not of refusals)."""
    from domain.calendars import DateError, calendar

    clock, samples, total, refused = time.perf_counter_ns, [], 0, 0
    for chunk in _chunks(calls, size):
        started = clock()
        for rail, country, day in chunk:
            try:
                calendar(rail, country).execution(day, now)
            except DateError:
                refused += 1
        elapsed = clock() - started
        total += elapsed
        samples.append(elapsed / len(chunk))
    return (samples, total), refused


def time_loop(calls: Sequence[tuple[str, str, date]], size: int = BATCH_CALLS) -> Timed:
    """The timing loop alone (unpacking each call, no lookup): what every figure carries on top."""
    clock, samples, total = time.perf_counter_ns, [], 0
    for chunk in _chunks(calls, size):
        started = clock()
        for _rail, _country, _day in chunk:
            pass
        elapsed = clock() - started
        total += elapsed
        samples.append(elapsed / len(chunk))
    return samples, total


def warm_costs(lookups: int, seed: int = SEED) -> dict[str, Any]:
    """Warm lookups in this process, every calendar asked for compiled first (and a pass untimed)."""
    from domain.calendars import FIRST_YEAR, RAILS, calendar

    for rail in RAILS:
        for country in ("",) + COUNTRIES:
            calendar(rail, country)
    calls = warm_calls(lookups, seed)
    # every date lies ahead of this "now": the lookups take the path of a date that can be met
    future_now = datetime(FIRST_YEAR, 1, 2, 12, 0, tzinfo=timezone.utc)
    time_execution(calls[:10_000], future_now)
    time_delivery(calls[:10_000])
    results: dict[str, Any] = {}
    gc.collect()
    results["execution"] = per_call(*_timed(time_execution(calls, future_now), lookups))
    gc.collect()
    results["delivery"] = per_call(*_timed(time_delivery(calls), lookups))
    gc.collect()
    results["dates_of"] = per_call(*_timed(time_dates_of(calls, future_now), lookups))
    now = datetime.now(timezone.utc)
    past = [c for c in warm_calls(lookups, seed + 1) if c[2] < now.date() - timedelta(days=7)][:max(1, lookups // 10)]
    gc.collect()
    timed, refused = time_refused(past, now)
    results["refused"] = {**per_call(*_timed(timed, len(past))), "refused": refused}
    results["loop_overhead"] = per_call(*_timed(time_loop(calls), lookups))
    results["note"] = (f"{lookups:,} calls of each kind over {len(RAILS)} rails, half with a destination "
                       f"({', '.join(COUNTRIES)}), days {calls and min(c[2] for c in calls)} to "
                       f"{calls and max(c[2] for c in calls)}; now {future_now.isoformat()} (every date ahead); "
                       f"{BATCH_CALLS} calls a sample (the p99 is of samples' per-call means); the timing loop's "
                       "own cost is included (loop_overhead)")
    return results


def _timed(timed: Timed, calls: int) -> tuple[list[float], int, int]:
    return timed[0], calls, timed[1]


def measure_warm(run: Run) -> Row:
    """The warm row: per-call mean and p99 of execution and delivery lookups, against 20 µs."""
    lookups = run.config.sizes.dates_lookups
    run.reporter.phase(f"dates: {lookups:,} warm lookups of each kind in this process")
    warm = warm_costs(lookups)
    execution, delivery = warm["execution"], warm["delivery"]
    mean = execution["mean_us"]
    figures: dict[str, float | None] = {
        "execution_p99_us": execution["p99_us"], "delivery_mean_us": delivery["mean_us"],
        "delivery_p99_us": delivery["p99_us"], "dates_of_mean_us": warm["dates_of"]["mean_us"],
        "faster_than_rfc_x": DATES_RFC_SERVICE_MS * 1000 / mean if mean else None,
    }
    return Row(f"{DATES}_warm", TITLE, "µs/lookup (execution, mean)", mean, figures=figures, thresholds=WARM_TARGET,
               note=f"warm: {lookups:,} execution and {lookups:,} delivery lookups, 4 rails, half to a destination; "
                    f"the RFC's service takes {DATES_RFC_SERVICE_MS:g} ms", details={"warm": warm})


# --- a dated file ----------------------------------------------------------------------------------


def mexico_today(at: datetime | None = None) -> date:
    """Today in Mexico City: the product's day for held rows."""
    return (at or datetime.now(timezone.utc)).astimezone(MEXICO_CITY).date()


def delivery_date(today: date, i: int) -> date:
    """Row ``i``'s delivery date: one of the next 31 days (today first), spread over the rows."""
    return today + timedelta(days=(i * DAY_STRIDE) % DAYS_AHEAD)


def csv_line(i: int, wallets: int, today: date) -> str:
    """Row ``i``: the seed's columns and its delivery date."""
    minor = amount_minor(i)
    return (f"{i},bench-dates-{i},{PAYMENT_MODE},accountid,payroll,accountid,{payee(i, wallets)},"
            f"{minor // 100}.{minor % 100:02d},{CURRENCY},salary {i},BENCH,2026-12,"
            f"{delivery_date(today, i).isoformat()}\n")


def write_file(path: Path, rows: int, wallets: int, today: date) -> BatchFile:
    """The dated file (small: written at once)."""
    text = ",".join(COLUMNS + ("date",)) + "\n" + "".join(csv_line(i, wallets, today) for i in range(rows))
    body = text.encode()
    path.write_bytes(body)
    return BatchFile(path, rows, len(body), hashlib.sha256(body).hexdigest(), sum(amount_minor(i) for i in range(rows)),
                     wallets)


@dataclass
class Held:
    """A dated batch followed from its 202 (seconds from it): when it was split and dated (as the polls
    saw it), when it was processing, and when every row due today was paid, the rest held."""

    batch_pk: int = 0
    status: str = "queued"
    rows: int = 0
    dated: int = 0
    settled: int = 0
    due_pending: int = -1
    dated_s: float | None = None
    processing_s: float | None = None
    held_s: float | None = None
    last_s: float = 0.0
    gave_up: str | None = None
    timeline: list[tuple[float, str, int, int, int]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Processing with nothing due left to pay, or ended."""
        return self.held_s is not None or self.status in ("completed", "failed")


def poll(run: Run, batch_id: str, accepted_at: float, seen: Held) -> None:
    """One look at the batch, and once it is processing, at its rows due today still pending."""
    time.sleep(POLL_SECONDS)
    found = db.row(run.engine, "SELECT id, status, `rows`, dated_rows, settled FROM batches WHERE batch_id = :b",
                   b=batch_id)
    if found is None:
        seen.status = "missing"
        return
    seen.batch_pk, seen.status = int(found.id), str(found.status)
    seen.rows, seen.dated, seen.settled = int(found.rows), int(found.dated_rows), int(found.settled)
    seen.last_s = time.monotonic() - accepted_at
    if seen.dated_s is None and seen.rows and seen.dated >= seen.rows:
        seen.dated_s = seen.last_s
    if seen.status == "processing":
        if seen.processing_s is None:
            seen.processing_s = seen.last_s
        seen.due_pending = int(db.scalar(
            run.engine, "SELECT COUNT(*) FROM instructions WHERE batch_pk = :pk AND status = 'pending' AND "
            "(execution_date IS NULL OR execution_date <= :today)", pk=seen.batch_pk, today=mexico_today()))
        if seen.due_pending == 0:
            seen.held_s = seen.last_s
    if not seen.timeline or seen.last_s - seen.timeline[-1][0] >= 2 or seen.done:
        seen.timeline.append((round(seen.last_s, 2), seen.status, seen.rows, seen.dated, seen.settled))


def follow(run: Run, batch_id: str, rows: int, accepted_at: float) -> Held:
    """Poll the batch until its due rows are paid (the others held), it stalls or runs out of time."""
    seen, moved_at, last = Held(), time.monotonic(), (0, "", 0, 0, 0)
    with run.reporter.counting("rows dated", rows) as update:
        while not seen.done and not seen.gave_up:
            poll(run, batch_id, accepted_at, seen)
            update(seen.dated)
            now = (seen.due_pending, seen.status, seen.rows, seen.dated, seen.settled)
            if now != last:
                moved_at, last = time.monotonic(), now
            if time.monotonic() - moved_at > STALL_SECONDS:
                seen.gave_up = f"the batch did not move for {STALL_SECONDS:.0f} s"
            elif seen.last_s > DEADLINE_SECONDS:
                seen.gave_up = f"the batch took longer than {DEADLINE_SECONDS:.0f} s"
    return seen


@dataclass(frozen=True)
class Message:
    """An outbox row of the batch: its step, its arguments, when it was recorded and published."""

    actor: str
    args: list[Any]
    created: float            # epoch seconds
    published: float | None


def outbox_messages(run: Run, batch_id: str) -> list[Message]:
    """The batch's split, lookup and plan messages, as the outbox recorded them."""
    found = db.rows(run.engine, "SELECT actor_name, args, created_at, published_at FROM outbox WHERE actor_name IN "
                    "('split_batch', 'lookup_dates', 'plan_batch') AND JSON_UNQUOTE(JSON_EXTRACT(args, '$[0]')) = :b "
                    "ORDER BY id", b=batch_id)
    return [Message(str(r.actor_name), json.loads(r.args) if isinstance(r.args, (str, bytes)) else list(r.args),
                    db.epoch(r.created_at), None if r.published_at is None else db.epoch(r.published_at))
            for r in found]


def lookup_timeline(messages: Iterable[Message], origin: float) -> dict[str, Any]:
    """The lookup step from the outbox: the split's last page queues ``lookup_dates(batch, -1)``, each page
    queues the next (``after_row`` its last row), the last page queues ``plan_batch``. The step runs from
    the first of those rows to the plan's; each page's work from its message's publication to the next
    row (broker delivery and the page's transaction up to its commit); the rest is the relay's hops (a
    message waiting to be published). Seconds; ``_s`` figures from ``origin``."""
    lookups = sorted((m for m in messages if m.actor == "lookup_dates"), key=lambda m: int(m.args[1]))
    plans = [m for m in messages if m.actor == "plan_batch"]
    if not lookups or not plans or int(lookups[0].args[1]) != -1:
        return {"complete": False, "lookup_messages": len(lookups), "plan_messages": len(plans)}
    chain = [*lookups, plans[0]]
    work = [after.created - before.published for before, after in zip(chain, chain[1:])
            if before.published is not None]
    hops = [m.published - m.created for m in lookups if m.published is not None]
    return {"complete": len(work) == len(lookups), "pages": len(lookups),
            "split_end_s": round(lookups[0].created - origin, 4), "plan_queued_s": round(plans[0].created - origin, 4),
            "lookup_step_s": round(plans[0].created - lookups[0].created, 4), "pages_work_s": round(sum(work), 4),
            "relay_hops_s": round(sum(hops), 4),
            "page_work_ms": [round(w * 1000, 1) for w in work], "relay_hop_ms": [round(h * 1000, 1) for h in hops]}


@dataclass(frozen=True)
class DatedRow:
    """A row as the check reads it."""

    row: int
    status: str
    error_code: str | None
    requested: date | None
    execution: date | None
    delivery: date | None
    amount: int


def date_problems(rows: Iterable[DatedRow], today: date, execution_of: Callable[[date], date],
                  delivery_of: Callable[[date], date]) -> tuple[list[str], dict[str, Any]]:
    """Whether every row was dated by the rail's rules or refused for a date that has passed: a dated
    row's execution date is the rule's for the date asked, its delivery date the rule's for that
    execution date, execution ≤ delivery ≤ the date asked; paid when due today or earlier, held (pending)
    when later; a refused row failed with DATE_NOT_MET only when its date could not be met any more.
    (problems, counts)."""
    problems: list[str] = []
    paid = held = refused = moved = paid_minor = 0
    held_days: set[date] = set()
    for r in rows:
        if r.status == "failed":
            if r.error_code != "DATE_NOT_MET":
                problems.append(f"row {r.row} failed with {r.error_code}")
            elif r.requested is not None and execution_of(r.requested) > today:
                problems.append(f"row {r.row} refused, yet {r.requested} could be met (send on "
                                f"{execution_of(r.requested)})")
            refused += 1
            continue
        if r.execution is None or r.delivery is None or r.requested is None:
            problems.append(f"row {r.row} ({r.status}) has no dates: asked {r.requested}, execution {r.execution}, "
                            f"delivery {r.delivery}")
            continue
        if not r.execution <= r.delivery <= r.requested:
            problems.append(f"row {r.row}: execution {r.execution}, delivery {r.delivery}, asked {r.requested}")
        elif r.execution != execution_of(r.requested) or r.delivery != delivery_of(r.execution):
            problems.append(f"row {r.row}: execution {r.execution} and delivery {r.delivery} for {r.requested}; the "
                            f"rules give {execution_of(r.requested)} and {delivery_of(execution_of(r.requested))}")
        moved += r.execution != r.requested
        if r.status == "success":
            paid, paid_minor = paid + 1, paid_minor + r.amount
            if r.execution > today:
                problems.append(f"row {r.row} paid before its execution date {r.execution}")
        elif r.status == "pending":
            held += 1
            held_days.add(r.execution)
            if r.execution <= today:
                problems.append(f"row {r.row} still held though due on {r.execution}")
        else:
            problems.append(f"row {r.row} is {r.status}")
    return problems, {"paid": paid, "held": held, "refused_date_not_met": refused, "paid_minor": paid_minor,
                      "held_execution_days": len(held_days), "sent_before_the_date_asked": moved}


def dated_rows(run: Run, batch_pk: int) -> list[DatedRow]:
    """Every row of the batch with its dates."""
    return [DatedRow(int(r.row), str(r.status), r.error_code, r.requested_date, r.execution_date, r.delivery_date,
                     int(r.amount or 0))
            for r in db.rows(run.engine, "SELECT `row`, status, error_code, requested_date, execution_date, "
                             "delivery_date, amount FROM instructions WHERE batch_pk = :pk ORDER BY `row`",
                             pk=batch_pk)]


def check_rows(run: Run, tenant: Tenant, batch_id: str, seen: Held, file: BatchFile,
               today: date) -> tuple[list[str], dict[str, Any]]:
    """The rows' dates by the rules, the paid ones in the books, the summary API agreeing."""
    from domain.calendars import calendar

    spei = calendar(RAIL)
    rows = dated_rows(run, seen.batch_pk)
    problems, counts = date_problems(rows, today, spei.execution, spei.delivery)
    if len(rows) != file.rows:
        problems.append(f"{len(rows)} rows split, expected {file.rows}")
    balance = int(db.scalar(run.engine, "SELECT balance FROM wallets WHERE tenant_id = :t AND owner_digest = :o "
                            "AND currency = :c", t=tenant.id, o=KEYRING.digest(FLOAT), c=CURRENCY))
    if balance != tenant.funded_minor - counts["paid_minor"]:
        problems.append(f"the float holds {balance}, expected {tenant.funded_minor} - {counts['paid_minor']} paid")
    entries = int(db.scalar(run.engine, "SELECT COUNT(*) FROM wallet_entries WHERE reference LIKE :p",
                            p=f"{batch_id}:%"))
    if entries != counts["paid"]:
        problems.append(f"{entries} wallet entries for {counts['paid']} rows paid")
    summary = ok(httpx.get(f"{run.bed.web_url}/api/v1/batchtransactions/{batch_id}", headers=headers(tenant),
                           timeout=60))
    said = (summary.get("status"), summary.get("successful"), summary.get("failed"), summary.get("date_type"))
    if said != ("processing", counts["paid"], counts["refused_date_not_met"], DATE_TYPE):
        problems.append(f"the summary says {said}, expected processing, {counts['paid']} successful, "
                        f"{counts['refused_date_not_met']} failed, date_type {DATE_TYPE}")
    counts.update({"float_balance": balance, "wallet_entries": entries, "summary": {
        k: summary.get(k) for k in ("status", "total", "successful", "failed", "ongoing", "date_type")}})
    return problems, counts


def events_timeline(run: Run, batch_pk: int, origin: float) -> dict[str, Any]:
    """The rows' ``dates_computed`` payment events (written in the lookup pages' transactions), when the
    tracking tables are there."""
    try:
        found = db.row(run.engine, "SELECT COUNT(*) AS n, MIN(e.at) AS first, MAX(e.at) AS last FROM payment_events e "
                       "JOIN instructions i ON i.uetr = e.uetr WHERE i.batch_pk = :pk AND e.kind = 'dates_computed'",
                       pk=batch_pk)
    except Exception as error:  # the tracking tables are another change's; their absence is no failure here
        return {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"}
    return {"dates_computed": int(found.n),
            "first_s": None if found.first is None else round(db.epoch(found.first) - origin, 4),
            "last_s": None if found.last is None else round(db.epoch(found.last) - origin, 4)}


def db_moves(run: Run, batch_id: str, batch_pk: int, origin: float) -> dict[str, Any]:
    """The plan and the payments as the database dated them, seconds from the batch's creation."""
    planned = db.scalar(run.engine, "SELECT MIN(created_at) FROM sub_batches WHERE batch_pk = :pk", pk=batch_pk)
    paid = db.row(run.engine, "SELECT MIN(at) AS first, MAX(at) AS last FROM wallet_entries WHERE reference LIKE :p",
                  p=f"{batch_id}:%")

    def since(at: Any) -> float | None:
        return None if at is None else round(db.epoch(at) - origin, 4)

    return {"sub_batches_planned_s": since(planned), "first_row_paid_s": since(paid.first),
            "last_row_paid_s": since(paid.last)}


def measure_file(run: Run, lookup_us: float | None) -> Row:
    """The dated file: uploaded, followed until its due rows are paid and the rest held, timed, checked.
    ``lookup_us``: the warm ``dates_of`` mean, to say what share of the step the calendar is."""
    bed, rows = run.bed, run.config.sizes.dates_rows
    label = f"{rows / 1000:g}k" if rows >= 1000 else str(rows)
    today = mexico_today()
    wallets = min(run.config.sizes.bulk_wallets, rows)
    run.reporter.phase(f"dates: a {label}-row file of delivery dates from {today} to "
                       f"{today + timedelta(days=DAYS_AHEAD - 1)}, X-Date-Type: {DATE_TYPE}")
    file = write_file(bed.workdir / f"bench-dates-{label}.csv", rows, wallets, today)
    tenant = tenant_with(bed, f"bench-dates-{label.lower()}", CONFIG, 2 * file.total_minor + 100_000, "bench dates")
    cpu_before, before = machine.cpu_snapshot(roots(bed)), db.server_counters(run.engine)
    accepted = upload(bed, tenant, file, f"bench-dates-{label}", {"X-Date-Type": DATE_TYPE})
    accepted_at, accepted_epoch = time.monotonic(), time.time()
    file.path.unlink(missing_ok=True)
    key = f"{DATES}_file_{label}"
    if accepted.status != 202 or "batch_id" not in accepted.body:
        return Row(key, TITLE, "µs/row", status=FAILED,
                   note=f"{rows:,} dated rows: the upload answered {accepted.status}: {accepted.text[:200]}")
    batch_id = str(accepted.body["batch_id"])
    run.reporter.phase(f"dates: accepted in {accepted.seconds:.2f} s (batch {batch_id}); following it")
    with run.profiler.recording(f"{DATES}-{label}", pid_of(bed, "worker"), "worker"):
        seen = follow(run, batch_id, rows, accepted_at)
    cpu_after, counters = machine.cpu_snapshot(roots(bed)), db.counter_deltas(before, db.server_counters(run.engine))
    created = db.scalar(run.engine, "SELECT created_at FROM batches WHERE batch_id = :b", b=batch_id)
    origin = db.epoch(created) if created is not None else accepted_epoch
    timeline = lookup_timeline(outbox_messages(run, batch_id), origin)
    step_s, work_s = timeline.get("lookup_step_s"), timeline.get("pages_work_s")
    figures: dict[str, float | None] = {
        "lookup_s": step_s, "lookup_work_s": work_s,
        "work_per_row_us": work_s * 1e6 / rows if work_s else None,
        "calendar_share_pct": 100 * rows * lookup_us / 1e6 / work_s if work_s and lookup_us else None,
        "accept_s": accepted.seconds, "split_s": timeline.get("split_end_s"), "held_s": seen.held_s,
    }
    value = step_s * 1e6 / rows if step_s else None
    row = Row(key, TITLE, "µs/row (lookup step)", value, figures=figures,
              note=f"a {label}-row file: delivery dates over {DAYS_AHEAD} days (weekends, holidays), "
                   f"X-Date-Type: {DATE_TYPE}; lookup step: split's end → plan (outbox)",
              details={"batch_id": batch_id, "tenant": tenant.name, "rows": rows, "bytes": file.size_bytes,
                       "today_mexico_city": today.isoformat(), "accept_seconds": round(accepted.seconds, 3),
                       "lookup": timeline, "seconds_from_the_202": {
                           "all_dated_seen": rounded(seen.dated_s), "processing_seen": rounded(seen.processing_s),
                           "due_paid_rest_held": rounded(seen.held_s)},
                       "db_moves": db_moves(run, batch_id, seen.batch_pk, origin) if seen.batch_pk else {},
                       "payment_events": events_timeline(run, seen.batch_pk, origin) if seen.batch_pk else {},
                       "origin": "seconds from the batch's created_at unless said; the 202 came "
                                 f"{accepted_epoch - origin:.3f} s after it",
                       "timeline": seen.timeline, "server_counters": counters,
                       "server_counters_per_row": db.per_item(counters, rows),
                       "cpu_ms_per_row": machine.cpu_ms_per_item(cpu_before, cpu_after, rows)})
    if not seen.done:
        row.status = INCOMPLETE
        row.note += f"; {seen.gave_up}: {seen.dated:,} of {rows:,} rows dated, batch {seen.status}"
        return row
    if seen.status != "processing":
        row.status = FAILED
        row.note += f"; the batch is {seen.status}, expected processing with rows held"
        return row
    if not timeline.get("complete"):
        row.note += "; the outbox did not show every lookup page"
    run.reporter.phase(f"dates: processing, due rows paid {seen.held_s:.1f} s after the 202; checking the rows")
    problems, counts = check_rows(run, tenant, batch_id, seen, file, today)
    row.details["rows_checked"] = counts
    row.note += (f"; {counts['paid']:,} paid today, {counts['held']:,} held over {counts['held_execution_days']} "
                 f"days, {counts['refused_date_not_met']:,} DATE_NOT_MET")
    if problems:
        row.status = FAILED
        row.note += "; rows: " + "; ".join(problems)[:300]
        row.details["row_problems"] = problems[:50]
    return row


# --- the scenario ----------------------------------------------------------------------------------


def failed(key: str, error: BaseException, run: Run) -> Row:
    """A part that raised: its row says why; the other parts' rows are kept."""
    run.reporter.note(f"dates {key} failed: {error!r}")
    return Row(f"{DATES}_{key}", TITLE, "", status=FAILED,
               note=f"{key}: {type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}",
               details={"traceback": traceback.format_exc()[-4000:]})


def measure(run: Run) -> list[Row]:
    """Cold and warm lookups in process (no service needed), then the dated file on the real processes."""
    rows: list[Row] = []
    for key, part in (("cold", measure_cold), ("warm", measure_warm)):
        try:
            rows.append(part(run))
        except Exception as error:
            rows.append(failed(key, error, run))
    warm = rows[-1].details.get("warm", {}) if rows else {}
    ensure_stopped(run.bed, "scheduler")  # its hourly release and sweeps would move the held rows
    ensure_running(run.bed, "web", "worker", "relay")
    try:
        rows.append(measure_file(run, warm.get("dates_of", {}).get("mean_us")))
    except Exception as error:
        row = failed("file", error, run)
        row.details["logs"] = run.bed.logs(tail=1500)
        rows.append(row)
    return rows

