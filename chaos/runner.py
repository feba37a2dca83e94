"""One chaos run, phase by phase: a testbed of the real processes, the stores and a bulk tenant, the
credits driven while faults are injected, treasury's requests and decisions, the tenant's bulk file
submitted in the middle of it, then the faults stop, the system settles (the batch completed), and the
books are proved: reconciliation, ``dispersa ledger verify``, the ledger against the bank's own books,
and the batch against the wallet ledger and the bank. Processes are always stopped, and the testbed
dropped unless ``--keep``, even on Ctrl-C."""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console

from chaos.api import Api
from chaos.checks import check_acknowledged, check_books, check_bulk, ledger_verify, operation_days, reconcile
from chaos.drive import (
    BulkDriven, BulkDriver, Driven, Expected, StoreRef, Treasury, create_stores, create_tenant, drive_credits,
)
from chaos.faults import Injector, run_faults
from chaos.plan import FAULT_KINDS, Plan, make_plan
from chaos.progress import Progress
from chaos.report import Report, bank_faults, count_estados
from chaos.state import Observer, Unsettled
from testbed import PROCFILE, Testbed, procfile_commands

QUIET_SECONDS = 6.0  # nothing moved for this long, and nothing is unfinished: settled
POLL_SECONDS = 2.0
RECONCILIATION_ROUNDS = 3
BULK_FINISH_SECONDS = 120  # after the system settled, how long the batch may take to read completed


@dataclass(frozen=True)
class ChaosOptions:
    """What ``dispersa chaos`` was asked for."""

    credits: int = 5000
    faults: int = 50
    bulk_rows: int = 400
    seed: int = 7
    quick: bool = False
    out: Path | None = None
    keep: bool = False
    name: str = "chaos"
    redis_db: int = 11
    worker_processes: int = 1
    worker_threads: int = 4
    clients: int = 2
    rate: float = 20.0
    kinds: tuple[str, ...] = FAULT_KINDS
    scenario: str = "chaos"
    settle_timeout: float = 600.0
    workdir: Path | None = None
    procfile: Path = PROCFILE

    def as_dict(self) -> dict[str, Any]:
        """The options as plain data, for the JSON report."""
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in self.__dict__.items()}

    def settings(self) -> dict[str, Any]:
        """The testbed's DISPERSA_* settings: sweeps, redrives and retries made fast enough to watch."""
        return {"scheduler_tick_seconds": 2, "sweep_interval_seconds": 10, "stuck_after_minutes": 1,
                "callback_after_minutes": 1, "min_backoff_ms": 100, "max_backoff_ms": 2000,
                "stp_timeout_seconds": 3, "stp_rate_limit_per_second": 100, "unmatched_event_deadline_minutes": 10,
                "worker_processes": self.worker_processes, "worker_threads": self.worker_threads}


class SettleTimeout(RuntimeError):
    """The system did not settle in time; ``unsettled`` names what was still moving."""

    def __init__(self, unsettled: list[Unsettled], waited: float):
        self.unsettled = unsettled
        super().__init__(f"not settled after {waited:.0f}s: " + "; ".join(map(str, unsettled)))


class ChaosRun:
    """The run's state, shared by its phases."""

    def __init__(self, options: ChaosOptions, console: Console):
        self.options, self.console = options, console
        self.plan: Plan = make_plan(options.seed, options.credits, options.faults, options.kinds,
                                    bulk_rows=options.bulk_rows)
        self.progress = Progress(console)
        self.report = Report(options.seed, options.as_dict())
        self.stopping = threading.Event()
        self.expected, self.driven = Expected(), Driven()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.workdir = options.workdir or Path(tempfile.mkdtemp(prefix=f"dispersa-{options.name}-"))
        self.bed: Testbed | None = None
        self.injector: Injector | None = None
        self.observer: Observer | None = None
        self.api: Api | None = None
        self.stores: list[StoreRef] = []
        self.bulk = BulkDriven()
        self.bulk_driver: BulkDriver | None = None
        self._phase: str | None = None
        self._phase_started = time.monotonic()
        self.completed = False

    # --- phases ------------------------------------------------------------------------------------

    def run(self) -> Report:
        """Every phase, in order; the report's ``failures`` say what went wrong."""
        o = self.options
        self.report.plan = self.plan.digest()
        bulk = self.plan.bulk
        rows = (f", a bulk file of {len(bulk.rows)} rows ({bulk.count('spei')} SPEI, {bulk.count('closedloop')} "
                f"closed loop) at credit {bulk.at_credit}" if bulk else "")
        self.progress.say(f"plan {self.report.plan} (seed {o.seed}): {len(self.plan.credits)} credits on "
                          f"{len(self.plan.stores)} stores{rows}, "
                          f"{len(self.plan.faults)} faults, sandbox scenario {o.scenario}; workdir {self.workdir}")
        self.setup()
        self.drive()
        self.settle_all()
        self.prove()
        return self.report

    def phase(self, name: str | None) -> None:
        """Close the phase under way (its duration goes in the report) and say the next one, if any."""
        now = time.monotonic()
        if self._phase is not None:
            self.report.phases[self._phase] = round(now - self._phase_started, 1)
        self._phase, self._phase_started = name, now
        if name is not None:
            self.progress.say(f"--- {name}")

    def setup(self) -> None:
        """The testbed: database, vhost, Redis db, the Procfile's processes and the sandbox."""
        self.phase("setup")
        o = self.options
        self.bed = Testbed.create(o.name, self.workdir, redis_db=o.redis_db, sandbox_scenario=o.scenario,
                                  sandbox_seed=o.seed, bulk_storage_dir=str(self.workdir / "batches"),
                                  procfile=o.procfile, **o.settings())
        self.progress.say(f"testbed {self.bed.database} (vhost {self.bed.vhost}, redis db {o.redis_db}), "
                          f"API {self.bed.web_url}, sandbox {self.bed.sandbox_url}")
        self.bed.start_all((*procfile_commands(o.procfile), "sandbox"))
        self.api = Api(self.bed.web_url, self.bed.admin_key)
        self.observer = Observer(self.bed)
        self.injector = Injector(self.bed, self.progress.started, self.stopping, o.seed, self.progress.say)
        self.stores = create_stores(self.api, self.plan)
        due = [s.due_at for s in self.stores if s.due_at]
        self.progress.say(f"{len(self.stores)} stores validated; scheduled triggers due at "
                          f"{min(due):%H:%M} UTC" if due else f"{len(self.stores)} stores validated")
        self.setup_bulk()

    def setup_bulk(self) -> None:
        """The bulk tenant, made and funded as an operator does, and its client (the tenant's own key)."""
        bulk = self.plan.bulk
        if bulk is None:
            return
        assert self.bed
        key, funded = create_tenant(self.bed, bulk, self.workdir)
        self.bulk.tenant, self.bulk.funded = bulk.tenant, funded
        self.bulk_driver = BulkDriver(Api(self.bed.web_url, key), bulk, self.driven, self.bulk, self.progress.started,
                                      self.progress.say)
        self.progress.say(f"bulk tenant {bulk.tenant} created, its float funded with {funded / 100:,.2f} MXN")

    def drive(self) -> None:
        """Credits by the client threads, treasury beside them, faults injected meanwhile; then the
        scheduled triggers' minute is waited for, and every store is asked for a transfer now."""
        self.phase("drive")
        assert self.api and self.injector and self.bed
        treasury = Treasury(self.api, Api(self.bed.web_url, self.bed.approver_key), self.plan, self.stores,
                            self.expected, self.driven)
        self._thread("chaos-treasury", treasury.run, self.stopping, self.errors)
        faults = self._thread("chaos-faults", run_faults, self.injector, self.plan.faults, self.driven, self.stopping,
                              self.errors)
        bulk = (self._thread("chaos-bulk", self.bulk_driver.run, self.stopping, self.errors)
                if self.bulk_driver else None)
        drive_credits(self.api, self.plan, self.stores, self.expected, self.driven, self.stopping,
                      self.options.clients, self.options.rate, self._drive_status)
        self._raise_thread_errors()
        while faults.is_alive():
            self.progress.update(f"credits driven; faults {len(self.injector.log.faults)}/{len(self.plan.faults)}")
            faults.join(1)
        while bulk is not None and bulk.is_alive():
            self.progress.update("credits driven; the bulk file being sent again")
            bulk.join(1)
        self._raise_thread_errors()
        self._wait_for_triggers()
        for store in self.stores:
            treasury.request(store)
        self.progress.say(f"faults stopped: {len(self.injector.log.faults)} injected; every store asked for a "
                          "transfer now")

    def _drive_status(self) -> None:
        assert self.injector
        done, total = self.driven.done, len(self.plan.credits)
        self.progress.update(f"credits {done}/{total}, faults {len(self.injector.log.faults)}/{len(self.plan.faults)}, "
                             f"API retries {sum(self.api.retries.values()) if self.api else 0}")

    def _wait_for_triggers(self) -> None:
        due = max((s.due_at for s in self.stores if s.due_at), default=None)
        while due and datetime.now(timezone.utc) < due and not self.stopping.is_set():
            left = (due - datetime.now(timezone.utc)).total_seconds()
            self.progress.update(f"waiting {left:.0f}s more for the scheduled triggers' minute ({due:%H:%M} UTC)")
            self.stopping.wait(min(1.0, max(0.1, left)))
        self.stopping.wait(4)  # the scheduler ticks every 2 s

    def settle_all(self) -> None:
        """Wait until the system has settled; a timeout names what is stuck."""
        self.phase("settle")
        try:
            self.settle(self.options.settle_timeout)
            self.report.settled = True
        except SettleTimeout as e:
            self.report.unsettled = e.unsettled
            self.progress.say(f"NOT SETTLED: {e}")
        self.stopping.set()  # treasury stops deciding: nothing waits for it any more
        self._join_threads()

    def settle(self, timeout: float) -> None:
        """Poll until nothing is unfinished and nothing moved for QUIET_SECONDS, within ``timeout``."""
        assert self.observer and self.injector
        started = time.monotonic()
        quiet_since, last = started, None
        while True:
            self.injector.watch()
            books = self.observer.books()
            unsettled = self.observer.unsettled(books)
            now = time.monotonic()
            moved = self.observer.fingerprint(books)
            changed = [k for k, v in moved.items() if last is not None and last.get(k) != v]
            if unsettled or changed or last is None:
                quiet_since = now
            last = moved
            if not unsettled and now - quiet_since >= QUIET_SECONDS:
                self.progress.say(f"settled after {now - started:.0f}s")
                return
            if now - started > timeout:
                raise SettleTimeout(unsettled or [Unsettled(f"kinds of change still happening: {', '.join(changed)}",
                                                            len(changed))], now - started)
            self.progress.update("settling: " + ("; ".join(map(str, unsettled)) if unsettled else
                                                 f"nothing unfinished; still moving: {', '.join(changed)}"
                                                 if changed else f"quiet for {now - quiet_since:.0f}s"))
            self._raise_thread_errors()
            time.sleep(POLL_SECONDS)

    def prove(self) -> None:
        """Reconcile each day, check the ledger, compare it with the bank's books; fill the report."""
        self.phase("prove")
        assert self.observer and self.bed
        if self.report.settled:
            self.reconcile_days()
        self.progress.say("dispersa ledger verify")
        self.report.verify = ledger_verify(self.bed)
        books = self.observer.books()
        self.report.books = check_books(self.observer, books, self.stores, self.expected.owed())
        self.report.acknowledged = check_acknowledged(self.observer, self.expected)
        self.prove_bulk(books)
        self.fill(books)
        self.phase(None)
        self.completed = True

    def prove_bulk(self, books: list[dict[str, Any]]) -> None:
        """The batch read through the API (waited for until it is completed), then checked against its
        plan, the wallet ledger and the bank's books."""
        if self.plan.bulk is None or self.bulk_driver is None:
            return
        assert self.observer
        if self.bulk.batch_id:
            summary = self.bulk_driver.finish(BULK_FINISH_SECONDS)
            self.progress.say(f"bulk batch {self.bulk.batch_id}: {summary.get('status')}, "
                              f"{summary.get('successful')} successful, {summary.get('failed')} failed, "
                              f"{summary.get('ongoing')} ongoing")
        self.report.bulk = check = check_bulk(self.observer, books, self.plan.bulk, self.bulk)
        begun, ended = self.bulk.submitted_at_seconds, self.bulk.completed_at_seconds
        if self.injector and begun is not None:
            check.in_flight_seconds = (begun, ended)
            for fault in self.injector.log.faults:
                if begun <= fault.at_seconds and (ended is None or fault.at_seconds <= ended):
                    check.faults_in_flight[fault.kind] = check.faults_in_flight.get(fault.kind, 0) + 1

    def reconcile_days(self) -> None:
        """Each day reconciled; mismatches (which the reconciliation asks the bank about) are settled and
        the days reconciled again, up to RECONCILIATION_ROUNDS times."""
        assert self.observer and self.api
        for round_ in range(1, RECONCILIATION_ROUNDS + 1):
            days = operation_days(self.observer, self.observer.books())
            self.progress.say(f"reconciling {', '.join(days)} (round {round_})")
            runs = [reconcile(self.api, day, 180) for day in days]
            self.report.reconciliations = runs
            found = [dict(m, round=round_) for r in runs for m in r.mismatches]
            if not found or round_ == RECONCILIATION_ROUNDS:
                return
            self.report.repaired_by_reconciliation.extend(found)
            self.progress.say(f"{len(found)} mismatches: the reconciliation asks the bank about them; settling again")
            self.settle(min(self.options.settle_timeout, 300))

    def fill(self, books: list[dict[str, Any]]) -> None:
        """The counts of the report."""
        assert self.observer and self.bed and self.injector and self.api
        r = self.report
        r.credits = self.observer.by_status("credits", amounts=False)
        r.evaluations = self.observer.evaluations()
        r.transfers = self.observer.by_status("bank_transfers")
        r.orders = self.observer.by_status("payment_orders")
        r.bank_orders = count_estados(books)
        r.actions = dict(sorted(self.expected.actions.items()))
        r.actions["API requests (all)"] = self.api.requests
        r.actions["API requests sent again (web down, 5xx)"] = sum(self.api.retries.values())
        r.api_retries = dict(self.api.retries)
        if self.bulk_driver is not None:
            bulk_api = self.bulk_driver.api
            r.actions["bulk API requests (the tenant's client)"] = bulk_api.requests
            r.actions["bulk API requests sent again (web down, 5xx)"] = sum(bulk_api.retries.values())
            for why, n in bulk_api.retries.items():
                r.api_retries[f"bulk {why}"] = n
        r.faults = self.injector.log
        r.bank_faults = bank_faults(books, self.bed.processes["worker"].log.read_text(errors="replace"))
        r.events = self.observer.events()
        r.sweeps = self.observer.sweeps()
        r.dead_letters = self.observer.dead_letters()

    # --- threads and the end -----------------------------------------------------------------------

    def _thread(self, name: str, target: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def _raise_thread_errors(self) -> None:
        if self.errors:
            raise self.errors[0]

    def _join_threads(self) -> None:
        for thread in self.threads:
            thread.join(30)

    def close(self, failed: bool) -> None:
        """Stop the threads and the processes; drop the testbed unless kept; keep the workdir (the
        processes' output) only when kept or failed."""
        self.stopping.set()
        self._join_threads()
        self.progress.close()
        if self.bed is not None:
            lock = self.injector.control if self.injector else threading.Lock()
            with lock:
                self.bed.stop()
        for part in (self.observer, self.injector):
            if part is not None:
                part.close()
        if self.bed is not None and not self.options.keep:
            self.bed.destroy()
        if self.options.keep or failed:
            self.report.workdir = str(self.workdir)
        elif self.options.workdir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
