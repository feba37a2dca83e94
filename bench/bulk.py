"""Scenario 5, bulk payouts through the closed loop, on the real processes (gunicorn's web, the Procfile's
worker consuming every queue, the bulk one with it, and the relay). For each size: a tenant with a float
large enough and ``payment-modes {wallet: closedloop}`` (party lookup off, so that the payees' wallets are
created; sub-batches of 500), a CSV file of that many rows written to disk a slice at a time, then:

- time to accept: ``POST /batchtransactions?type=csv`` with the file as a streamed ``text/csv`` body (its
  length and SHA-256 declared), from the request's start to the 202;
- end to end: from the 202 until the batch is ``completed`` (its row in ``batches`` polled), as rows per
  second; the split (until the batch leaves ``queued``) and the execution (from there to ``completed``)
  are timed too;
- peak RSS of each process tree (web: gunicorn's master and workers; worker: dramatiq's parent and its
  children; the relay), sampled from /proc every 100 ms during the upload, the split and the execution,
  so that memory is seen to stay flat from the smallest size to the largest.

Then the books are checked: every row a success, the float down by the file's total and the wallets up by
it, one wallet entry per row, the batch's own check of ``ledger verify`` (``check_batch``) without
violations, and the summary API agreeing. A check that fails fails the row."""
from __future__ import annotations

import hashlib
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx

from adapters.sealing import KEYRING
from bench import db, machine
from bench.catalog import ok
from bench.config import (
    BULK, BULK_ACCEPT_MAX_SECONDS, BULK_ACCEPT_ROWS, BULK_MAX_RSS_GROWTH_PCT, BULK_MIN_ROWS_PER_SECOND,
)
from bench.context import Run
from bench.memory import RssSampler
from bench.processes import ensure_running, ensure_stopped, pid_of, roots
from bench.report import FAILED, INCOMPLETE, Row, Threshold, rounded
from bench.stats import rate, ratio
from domain.bulk_files import COLUMNS
from testbed import Testbed

TITLE = "5. bulk payouts"
PAYMENT_MODE = "wallet"
CURRENCY = "MXN"
FLOAT = "float"  # the tenant's float wallet (domain.tenants.FLOAT)
SLICE_ROWS = 10_000   # rows written to the file at a time
CHUNK_BYTES = 256 * 1024  # what the client sends at a time
POLL_SECONDS = 0.25
STALL_SECONDS = 300.0  # a batch that does not move for this long ends the size as incomplete
UPLOAD_TIMEOUT = httpx.Timeout(900.0, connect=10.0)
PROCESS_KINDS = ("web", "worker", "relay")
SHOWN_KINDS = ("web", "worker")  # the figures; the relay's is in the JSON
RATE = Threshold("value", BULK_MIN_ROWS_PER_SECOND, True, f"≥ {BULK_MIN_ROWS_PER_SECOND:,.0f} rows/s end to end",
                 "rate")
ACCEPT = Threshold("accept_s", BULK_ACCEPT_MAX_SECONDS, False,
                   f"accept {BULK_ACCEPT_ROWS // 1000}k rows < {BULK_ACCEPT_MAX_SECONDS:g} s", "accept")
ACCEPT_SCALED = Threshold("accept_per_100k_s", BULK_ACCEPT_MAX_SECONDS, False,
                          f"accept < {BULK_ACCEPT_MAX_SECONDS:g} s per {BULK_ACCEPT_ROWS // 1000}k rows", "accept")


def flat(smallest: str) -> Threshold:
    """Peak RSS of the web and the worker within a margin of the smallest size's."""
    return Threshold("rss_growth_pct", BULK_MAX_RSS_GROWTH_PCT, False,
                     f"RSS flat: peaks < +{BULK_MAX_RSS_GROWTH_PCT:g} % of {smallest}'s", "RSS")


def size_label(rows: int) -> str:
    """100000 -> "100k", 1000000 -> "1M", 2500 -> "2.5k"."""
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if rows >= scale:
            return f"{rows / scale:g}{unit}"
    return str(rows)


# --- the file --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchFile:
    """A CSV file written for the bench: its rows, bytes, SHA-256 and total (minor units)."""

    path: Path
    rows: int
    size_bytes: int
    sha256: str
    total_minor: int
    wallets: int


def amount_minor(i: int) -> int:
    """Row ``i``'s amount in centavos: 10.00 to 999.99 MXN, spread."""
    return 1_000 + (i * 7_919) % 99_000


def payee(i: int, wallets: int) -> str:
    """Row ``i``'s payee: one of ``wallets`` wallets, round robin."""
    return f"employee-{i % wallets:05d}"


def csv_line(i: int, wallets: int) -> str:
    """Row ``i`` as the seed's columns have it."""
    minor = amount_minor(i)
    return (f"{i},bench-{i},{PAYMENT_MODE},accountid,payroll,accountid,{payee(i, wallets)},"
            f"{minor // 100}.{minor % 100:02d},{CURRENCY},salary {i},BENCH,2026-12\n")


def write_file(path: Path, rows: int, wallets: int) -> BatchFile:
    """``rows`` closed-loop rows to ``path``, a slice at a time (never the whole file in memory)."""
    sha, total, size = hashlib.sha256(), 0, 0
    with open(path, "wb") as out:
        header = (",".join(COLUMNS) + "\n").encode()
        sha.update(header)
        out.write(header)
        size += len(header)
        for start in range(0, rows, SLICE_ROWS):
            stop = min(rows, start + SLICE_ROWS)
            chunk = "".join(csv_line(i, wallets) for i in range(start, stop)).encode()
            total += sum(amount_minor(i) for i in range(start, stop))
            sha.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return BatchFile(path, rows, size, sha.hexdigest(), total, wallets)


def chunks(path: Path) -> Iterator[bytes]:
    """The file, ``CHUNK_BYTES`` at a time: what the client streams."""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


# --- the tenant ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """A tenant made for one size: its name, id, key and funded float (minor units)."""

    name: str
    id: int
    key: str
    funded_minor: int


def make_tenant(bed: Testbed, name: str, sub_batch: int, float_minor: int) -> Tenant:
    """A bulk size's tenant: closed-loop rows, party lookup off, sub-batches of ``sub_batch``."""
    return tenant_with(bed, name, {"payment-modes": {PAYMENT_MODE: "closedloop"}, "partylookup.enable": False,
                                   "splitting.enable": True, "splitting.sub-batch-size": sub_batch}, float_minor)


def tenant_with(bed: Testbed, name: str, config: dict[str, Any], float_minor: int, label: str = "bench bulk") -> Tenant:
    """The tenant with this bulk configuration, its key and its funded float, made with the product's use
    cases (as ``dispersa tenant create`` and ``fund`` make them)."""
    from adapters.clock import utc_now
    from adapters.db.engine import build_engine, session_factory
    from adapters.db.outbox import new_message_id
    from adapters.db.uow import UnitOfWork
    from usecases import tenants

    engine = build_engine(bed.database_url)
    try:
        with UnitOfWork(session_factory(engine), utc_now, new_message_id) as uow:
            made = tenants.put(uow, name, config)
            key = tenants.key_for(uow, made.tenant, label=label)
            tenants.fund(uow, name, f"{float_minor // 100}.{float_minor % 100:02d}", CURRENCY)
            uow.commit()
            return Tenant(name, int(made.tenant.id or 0), key, float_minor)
    finally:
        engine.dispose()


def headers(tenant: Tenant) -> dict[str, str]:
    """A tenant key's headers on every bulk call."""
    return {"Authorization": f"Bearer {tenant.key}", "Platform-TenantId": tenant.name}


# --- upload and follow -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """The upload's answer and how long it took."""

    seconds: float
    status: int
    body: dict[str, Any]
    text: str


def upload(bed: Testbed, tenant: Tenant, file: BatchFile, request_id: str,
           extra: dict[str, str] | None = None) -> Accepted:
    """POST the file as a streamed text/csv body (its length declared, so not chunked), timed to the answer;
    ``extra`` headers beside the usual ones (X-Date-Type)."""
    sent = {**headers(tenant), "X-CorrelationID": request_id, "filename": file.path.name, "Content-Type": "text/csv",
            "Content-Length": str(file.size_bytes), "X-Content-SHA256": file.sha256, "Purpose": "bench payroll",
            **(extra or {})}
    with httpx.Client(base_url=bed.web_url, timeout=UPLOAD_TIMEOUT) as client:
        started = time.perf_counter()
        answer = client.post("/batchtransactions", params={"type": "csv"}, headers=sent, content=chunks(file.path))
        seconds = time.perf_counter() - started
    try:
        body = answer.json()
    except ValueError:
        body = {}
    return Accepted(seconds, answer.status_code, body if isinstance(body, dict) else {}, answer.text[:500])


@dataclass
class Followed:
    """A batch followed from its 202: when it left ``queued`` and when it ended (seconds from the 202),
    where it stood last, and whether it stalled or ran out of time."""

    split_s: float | None = None
    end_s: float | None = None
    status: str = "queued"
    rows: int = 0
    settled: int = 0
    last_s: float = 0.0
    gave_up: str | None = None
    timeline: list[tuple[float, str, int, int]] = field(default_factory=list)  # every few seconds

    @property
    def done(self) -> bool:
        """Whether the batch ended (completed or failed)."""
        return self.status in ("completed", "failed")


def batch_state(run: Run, batch_id: str) -> tuple[str, int, int]:
    """(status, rows split, rows settled) of the batch, as committed."""
    found = db.row(run.engine, "SELECT status, `rows`, settled FROM batches WHERE batch_id = :b", b=batch_id)
    return (str(found.status), int(found.rows), int(found.settled)) if found else ("missing", 0, 0)


def follow(run: Run, batch_id: str, rows: int, accepted_at: float, sampler: RssSampler) -> Followed:
    """Poll the batch until it ends, stalls or runs out of time, with progress: rows split, then rows settled."""
    deadline = run.config.sizes.bulk_deadline
    seen = Followed()
    moved_at, last = accepted_at, ("", -1, -1)
    sampler.switch("split")
    with run.reporter.counting("rows split", rows) as split_update:
        while not seen.done and seen.split_s is None and not seen.gave_up:
            poll(run, batch_id, accepted_at, seen)
            split_update(seen.rows)
            if seen.status != "queued":
                seen.split_s = seen.last_s
            moved_at, last = moved(seen, moved_at, last)
            give_up(seen, moved_at, deadline)
    sampler.switch("execution")
    with run.reporter.counting("rows settled", rows) as settled_update:
        while not seen.done and not seen.gave_up:
            poll(run, batch_id, accepted_at, seen)
            settled_update(seen.settled)
            moved_at, last = moved(seen, moved_at, last)
            give_up(seen, moved_at, deadline)
    if seen.done:
        seen.end_s = seen.last_s
    sampler.switch("after")
    return seen


def poll(run: Run, batch_id: str, accepted_at: float, seen: Followed) -> None:
    """One look at the batch, after a pause."""
    time.sleep(POLL_SECONDS)
    seen.status, seen.rows, seen.settled = batch_state(run, batch_id)
    seen.last_s = time.monotonic() - accepted_at
    if not seen.timeline or seen.last_s - seen.timeline[-1][0] >= 5 or seen.done:
        seen.timeline.append((round(seen.last_s, 2), seen.status, seen.rows, seen.settled))


def moved(seen: Followed, moved_at: float, last: tuple[str, int, int]) -> tuple[float, tuple[str, int, int]]:
    """When the batch last moved, and how it stood then."""
    now = (seen.status, seen.rows, seen.settled)
    return (time.monotonic(), now) if now != last else (moved_at, last)


def give_up(seen: Followed, moved_at: float, deadline: float) -> None:
    """Stop following a batch that does not move, or that has taken longer than the deadline."""
    if time.monotonic() - moved_at > STALL_SECONDS:
        seen.gave_up = f"the batch did not move for {STALL_SECONDS:.0f} s"
    elif seen.last_s > deadline:
        seen.gave_up = f"the batch took longer than the deadline ({deadline:.0f} s)"


# --- the books -------------------------------------------------------------------------------------


def check_books(run: Run, tenant: Tenant, batch_id: str, file: BatchFile) -> tuple[list[str], dict[str, Any]]:
    """Whether the batch paid every row once and the money adds up; (problems, facts)."""
    problems: list[str] = []
    batch = db.row(run.engine, "SELECT id, status, `rows`, settled, created_at, completed_at FROM batches "
                   "WHERE batch_id = :b", b=batch_id)
    by_status = {str(r.status): (int(r.n), int(r.total)) for r in db.rows(
        run.engine, "SELECT status, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM instructions "
        "WHERE batch_pk = :pk GROUP BY status", pk=batch.id)}
    if by_status != {"success": (file.rows, file.total_minor)}:
        problems.append(f"rows by status {by_status}, expected every one of {file.rows} a success paying "
                        f"{file.total_minor}")
    balance = int(db.scalar(run.engine, "SELECT balance FROM wallets WHERE tenant_id = :t AND owner_digest = :o "
                            "AND currency = :c", t=tenant.id, o=KEYRING.digest(FLOAT), c=CURRENCY))
    if balance != tenant.funded_minor - file.total_minor:
        problems.append(f"the float holds {balance}, expected {tenant.funded_minor} - {file.total_minor}")
    payees = db.row(run.engine, "SELECT COUNT(*) AS n, COALESCE(SUM(balance), 0) AS total FROM wallets WHERE "
                    "tenant_id = :t AND owner_digest <> :o AND currency = :c", t=tenant.id, o=KEYRING.digest(FLOAT),
                    c=CURRENCY)
    if (int(payees.n), int(payees.total)) != (min(file.wallets, file.rows), file.total_minor):
        problems.append(f"{payees.n} payee wallets holding {payees.total}, expected {min(file.wallets, file.rows)} "
                        f"holding {file.total_minor}")
    entries = db.row(run.engine, "SELECT COUNT(*) AS n, COUNT(DISTINCT reference) AS once, COALESCE(SUM(amount), 0) "
                     "AS total FROM wallet_entries WHERE reference LIKE :p", p=f"{batch_id}:%")
    if (int(entries.n), int(entries.once), int(entries.total)) != (file.rows, file.rows, file.total_minor):
        problems.append(f"{entries.n} wallet entries ({entries.once} references) paying {entries.total}, expected "
                        f"{file.rows} paying {file.total_minor}")
    violations = batch_violations(run, int(batch.id))
    problems.extend(violations[:10])
    summary = ok(httpx.get(f"{run.bed.web_url}/api/v1/batchtransactions/{batch_id}", headers=headers(tenant),
                           timeout=120))
    if (summary.get("status"), summary.get("total"), summary.get("successful"), summary.get("failed")) != (
            "completed", file.rows, file.rows, 0):
        problems.append(f"the summary says {summary.get('status')}, total {summary.get('total')}, successful "
                        f"{summary.get('successful')}, failed {summary.get('failed')}")
    facts = {"rows_by_status": by_status, "float_balance": balance, "payee_wallets": int(payees.n),
             "wallet_entries": int(entries.n), "verify_violations": len(violations),
             "summary": {k: summary.get(k) for k in ("status", "total", "successful", "failed", "totalAmount",
                                                     "successfulAmount", "currency")},
             "sub_batches": len(summary.get("subBatches") or [])}
    return problems, facts


def batch_violations(run: Run, batch_pk: int) -> list[str]:
    """``ledger verify``'s check of one batch (rows against counts, no row paid twice, each success its entry)."""
    from adapters.db.engine import build_engine, session_factory
    from usecases.verify_batches import check_batch

    engine = build_engine(run.bed.database_url)
    try:
        with session_factory(engine)() as session:
            return check_batch(session, batch_pk)
    finally:
        engine.dispose()


def db_timeline(run: Run, batch_id: str) -> dict[str, Any]:
    """The batch's moves as the database recorded them, in seconds from its creation: the first and the
    last row split, the first and the last wallet entry, completion."""
    batch = db.row(run.engine, "SELECT id, created_at, completed_at FROM batches WHERE batch_id = :b", b=batch_id)
    split = db.row(run.engine, "SELECT MIN(created_at) AS first, MAX(created_at) AS last FROM instructions "
                   "WHERE batch_pk = :pk", pk=batch.id)
    paid = db.row(run.engine, "SELECT MIN(at) AS first, MAX(at) AS last FROM wallet_entries WHERE reference LIKE :p",
                  p=f"{batch_id}:%")
    planned = db.scalar(run.engine, "SELECT MIN(created_at) FROM sub_batches WHERE batch_pk = :pk", pk=batch.id)
    origin = db.epoch(batch.created_at)

    def since(at: Any) -> float | None:
        return None if at is None else round(db.epoch(at) - origin, 3)

    def between(start: Any, end: Any) -> float | None:
        return None if start is None or end is None else round(db.epoch(end) - db.epoch(start), 3)

    return {"first_row_split_s": since(split.first), "last_row_split_s": since(split.last),
            "sub_batches_planned_s": since(planned), "first_row_paid_s": since(paid.first),
            "last_row_paid_s": since(paid.last), "completed_s": since(batch.completed_at),
            "splitting_s": between(split.first, split.last),
            "last_split_to_first_paid_s": between(split.last, paid.first),
            "paying_s": between(paid.first, paid.last),
            "note": "seconds from the batch's created_at, by the clocks of the steps that wrote them; "
                    "sub_batches_planned_s is the plan step's clock after its counts, before it numbers the rows"}


def log_size(bed: Testbed, name: str) -> int:
    """How long a process's log is now (where this size's lines begin)."""
    try:
        return bed.processes[name].log.stat().st_size
    except (KeyError, OSError):
        return 0


def worker_log_counts(bed: Testbed, start: int) -> dict[str, int]:
    """What the worker logged since ``start``: messages that failed and were retried (Dramatiq's "failed
    (retry n)" lines), how many of them for a deadlock or a lock wait timeout, and ERROR lines."""
    try:
        with open(bed.processes["worker"].log, "rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
    except (KeyError, OSError):
        return {}
    failed = [line for line in text.splitlines() if "failed (retry " in line]
    return {"messages_failed_and_retried": len(failed), "of_them_deadlocks_1213": sum("(1213," in f for f in failed),
            "of_them_lock_wait_timeouts_1205": sum("(1205," in f for f in failed),
            "error_lines": text.count("[ERROR]")}


# --- one size, and the scenario --------------------------------------------------------------------


@dataclass
class SizeResult:
    """What one size measured: the row, and the peaks to compare sizes with."""

    row: Row
    peaks_mib: dict[str, float | None]
    finished: bool


def measure_size(run: Run, rows: int, index: int) -> SizeResult:
    """One batch of ``rows`` rows: written, uploaded, followed to its end, its books checked."""
    sizes, bed, label = run.config.sizes, run.bed, size_label(rows)
    run.reporter.phase(f"bulk {label}: writing {rows:,} closed-loop rows over {sizes.bulk_wallets:,} wallets")
    file = write_file(bed.workdir / f"bench-bulk-{label}.csv", rows, sizes.bulk_wallets)
    tenant = make_tenant(bed, f"bench-bulk-{index}-{label.lower()}", sizes.bulk_sub_batch,
                         2 * file.total_minor + 100_000)
    kinds = {kind: pid_of(bed, kind) for kind in PROCESS_KINDS}
    log_from = log_size(bed, "worker")
    before, cpu_before = db.server_counters(run.engine), machine.cpu_snapshot(roots(bed))
    run.reporter.phase(f"bulk {label}: uploading {file.size_bytes / 1e6:,.1f} MB as a streamed text/csv body")
    with RssSampler(kinds) as sampler:
        time.sleep(0.3)  # a baseline before the upload
        sampler.switch("upload")
        with run.profiler.recording(f"{BULK}-{label}-upload", kinds["web"], "web"):
            accepted = upload(bed, tenant, file, f"bench-{label}-{index}")
        accepted_at = time.monotonic()
        if accepted.status != 202 or "batch_id" not in accepted.body:
            file.path.unlink(missing_ok=True)
            return SizeResult(Row(f"{BULK}_{label}", TITLE, "rows/s", status=FAILED,
                                  note=f"{rows:,} rows: the upload answered {accepted.status}: {accepted.text[:200]}"),
                              {}, False)
        batch_id = str(accepted.body["batch_id"])
        run.reporter.phase(f"bulk {label}: accepted in {accepted.seconds:.2f} s (batch {batch_id}); following it")
        with run.profiler.recording(f"{BULK}-{label}", kinds["worker"], "worker"):
            seen = follow(run, batch_id, rows, accepted_at, sampler)
    cpu_after = machine.cpu_snapshot(roots(bed))
    counters = db.counter_deltas(before, db.server_counters(run.engine))
    file.path.unlink(missing_ok=True)
    row = size_row(run, file, accepted, seen, sampler)
    row.details.update({"batch_id": batch_id, "tenant": tenant.name, "db_timeline": db_timeline(run, batch_id),
                        "worker_log": worker_log_counts(bed, log_from), "server_counters": counters,
                        "server_counters_per_row": db.per_item(counters, seen.settled or rows),
                        "cpu_ms_per_row": machine.cpu_ms_per_item(cpu_before, cpu_after, seen.settled or rows)})
    if seen.done:
        run.reporter.phase(f"bulk {label}: {seen.status} {seen.end_s:.1f} s after the 202; checking the books")
        problems, facts = check_books(run, tenant, batch_id, file)
        row.details["books"] = facts
        if problems:
            row.status = FAILED
            row.note += "; books: " + "; ".join(problems)[:300]
            row.details["book_problems"] = problems
    else:
        row.status = INCOMPLETE
        row.note += f"; {seen.gave_up}: {seen.settled:,} of {rows:,} rows settled"
    peaks = {kind: sampler.peak_total_mib(kind, ("upload", "split", "execution")) for kind in PROCESS_KINDS}
    return SizeResult(row, peaks, seen.done)


def size_row(run: Run, file: BatchFile, accepted: Accepted, seen: Followed, sampler: RssSampler) -> Row:
    """The row of one size: rows per second end to end (or the rate seen, when it did not end), accept,
    split and execution times, peak RSS of the web and the worker."""
    rows, label, windows = file.rows, size_label(file.rows), ("upload", "split", "execution")
    end_to_end = seen.end_s if seen.end_s is not None else seen.last_s
    value = rate(seen.settled if not seen.done else rows, end_to_end)
    execute_s = (seen.end_s - seen.split_s) if seen.end_s is not None and seen.split_s is not None else None
    figures: dict[str, float | None] = {"accept_s": accepted.seconds}
    thresholds: list[Threshold] = [RATE]
    if rows == BULK_ACCEPT_ROWS:
        thresholds.append(ACCEPT)
    elif rows > BULK_ACCEPT_ROWS:
        figures["accept_per_100k_s"] = accepted.seconds * BULK_ACCEPT_ROWS / rows
        thresholds.append(ACCEPT_SCALED)
    figures.update({"split_s": seen.split_s, "execute_s": execute_s, "end_to_end_s": end_to_end})
    for kind in SHOWN_KINDS:
        figures[f"{kind}_rss_mib"] = sampler.peak_total_mib(kind, windows)
    note = (f"{rows:,} closedloop rows ({label}), {file.wallets:,} wallets, sub-batches of "
            f"{run.config.sizes.bulk_sub_batch}; {file.size_bytes / 1e6:,.1f} MB")
    details: dict[str, Any] = {
        "rows": rows, "bytes": file.size_bytes, "wallets": file.wallets, "total_minor": file.total_minor,
        "accept_seconds": round(accepted.seconds, 3), "accept_mb_per_second": round(
            file.size_bytes / 1e6 / accepted.seconds, 1) if accepted.seconds > 0 else None,
        "split_seconds": rounded(seen.split_s), "execution_seconds": rounded(execute_s),
        "end_to_end_seconds": rounded(end_to_end),
        "split_rows_per_second": rounded(rate(rows, seen.split_s or 0.0)),
        "execution_rows_per_second": rounded(rate(rows, execute_s or 0.0)) if seen.done else None,
        "status": seen.status, "settled": seen.settled, "timeline": seen.timeline, "rss_mib": sampler.as_dict(),
        "rss_note": "VmRSS of each process tree every 100 ms; total = the tree's sum (shared pages counted in each "
                    "process), process = its largest process",
        "parallel_sub_batches": run.bed.env.get("DISPERSA_BULK_PARALLEL_SUB_BATCHES", "default (2)"),
    }
    return Row(f"{BULK}_{label}", TITLE, "rows/s", value, ratio(value, run.raw_insert_rate), figures=figures,
               thresholds=tuple(thresholds), note=note, details=details)


def growth_pct(peaks: dict[str, float | None], base: dict[str, float | None]) -> tuple[float | None, dict[str, Any]]:
    """The largest growth of the web's and the worker's peak over the base size's, in percent; and each."""
    each: dict[str, Any] = {}
    for kind in SHOWN_KINDS:
        now, then = peaks.get(kind), base.get(kind)
        each[kind] = round(100 * (now - then) / then, 1) if now is not None and then else None
    measured = [v for v in each.values() if v is not None]
    return (max(measured) if measured else None), each


def measure(run: Run) -> list[Row]:
    """Each size in turn, smallest first, on the same running processes (memory that a larger file left
    behind would show); a size that did not end stops the larger ones."""
    sizes = sorted(run.config.sizes.bulk_rows)
    ensure_stopped(run.bed, "scheduler")  # its sweeps would drive the batch too; the bench times the steps alone
    ensure_running(run.bed, "web", "worker", "relay")
    results: list[SizeResult] = []
    for index, rows in enumerate(sizes):
        try:
            result = measure_size(run, rows, index)
        except Exception as error:  # the smaller sizes' rows are kept; the larger ones are not run
            run.reporter.note(f"bulk {size_label(rows)} failed: {error!r}")
            result = SizeResult(Row(f"{BULK}_{size_label(rows)}", TITLE, "rows/s", status=FAILED,
                                    note=f"{rows:,} rows: {type(error).__name__}: {str(error).splitlines()[0][:200]}",
                                    details={"traceback": traceback.format_exc()[-4000:],
                                             "logs": run.bed.logs(tail=1500)}), {}, False)
        if results and results[0].peaks_mib:
            growth, each = growth_pct(result.peaks_mib, results[0].peaks_mib)
            result.row.figures["rss_growth_pct"] = growth
            result.row.thresholds = (*result.row.thresholds, flat(size_label(sizes[0])))
            result.row.details["rss_growth_pct_over_smallest"] = each
        results.append(result)
        if not result.finished:
            skipped = sizes[index + 1:]
            if skipped:
                run.reporter.note(f"bulk: {', '.join(size_label(s) for s in skipped)} skipped, {size_label(rows)} "
                                  "did not finish")
                result.row.note += f"; {', '.join(size_label(s) for s in skipped)} skipped"
            break
    return [r.row for r in results]
