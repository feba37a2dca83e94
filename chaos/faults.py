"""The faults the run injects, each confined to the testbed: SIGKILL of one of its processes (started again
after a moment), its RabbitMQ connections closed (its own virtual host only), its MySQL connections killed
(processlist rows of its own database only). A process that ends without being killed is a crash: it is
recorded, with the end of its output, and started again as a supervisor would."""
from __future__ import annotations

import random
import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from chaos.drive import Driven
from chaos.plan import FaultPlan
from testbed import Testbed

MIN_GAP_SECONDS = 1.0  # between two faults, so that each one lands on a running system
LONG_OUTAGE_SECONDS = 10.0  # a kill this long is announced when it begins


@dataclass
class FaultRecord:
    """One injected fault: what, when (seconds into the run), how long it took, and what it hit."""

    number: int
    kind: str
    at_seconds: float
    at_credit: int
    detail: str
    hits: int = 0  # processes killed, connections closed or killed
    ok: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data."""
        return asdict(self)


@dataclass
class Crash:
    """A process of the testbed that ended although nobody killed it."""

    name: str
    at_seconds: float
    exit_code: int | None
    output: str


@dataclass
class FaultLog:
    """Every fault injected and every crash seen, in order."""

    faults: list[FaultRecord] = field(default_factory=list)
    crashes: list[Crash] = field(default_factory=list)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (faults, hits)."""
        faults: Counter[str] = Counter(f.kind for f in self.faults)
        hits: Counter[str] = Counter()
        for f in self.faults:
            hits[f.kind] += f.hits
        return {kind: (faults[kind], hits[kind]) for kind in sorted(faults)}


class Injector:
    """Injects faults into one testbed. ``control`` is held while processes are killed and started, so
    that the run's shutdown never races a restart."""

    def __init__(self, bed: Testbed, started: float, stopping: threading.Event, seed: int,
                 say: Callable[[str], None]):
        self.bed, self.started, self.stopping, self.say = bed, started, stopping, say
        self.control = threading.Lock()
        self.log = FaultLog()
        self._rng = random.Random(f"{seed}:connections")
        url = make_url(bed.database_url)
        self._server = create_engine(url.set(database=""), poolclass=NullPool)

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return round(time.monotonic() - self.started, 1)

    def inject(self, fault: FaultPlan, driven: int) -> FaultRecord:
        """Inject one planned fault and record it."""
        record = FaultRecord(fault.number, fault.kind, self.elapsed(), driven, "")
        try:
            if fault.kind.startswith("kill:"):
                record.detail, record.hits = self.kill(fault.kind.split(":", 1)[1], fault.down_seconds)
            elif fault.kind == "rabbitmq:close-connections":
                record.detail, record.hits = self.close_broker_connections()
            elif fault.kind == "mysql:kill-connections":
                record.detail, record.hits = self.kill_database_connections(fault.share)
            else:
                raise ValueError(f"unknown fault kind {fault.kind}")
        except Exception as e:  # a fault that could not be injected is reported, not fatal
            record.ok, record.detail = False, f"{type(e).__name__}: {e}"
        self.log.faults.append(record)
        return record

    def kill(self, name: str, down_seconds: float) -> tuple[str, int]:
        """SIGKILL the process (its whole group), leave it down a moment, start it again."""
        with self.control:
            process = self.bed.processes[name]
            pid = process.popen.pid
            self.bed.kill(name)
            self.stopping.wait(down_seconds)
            self.bed.restart(name)
        return f"pid {pid} killed, down {down_seconds:.1f}s, started again", 1

    def close_broker_connections(self) -> tuple[str, int]:
        """``rabbitmqctl close_all_connections -p <the testbed's vhost> chaos``: never another vhost."""
        vhost = self.bed.vhost
        if not vhost.startswith("dispersa_"):
            raise RuntimeError(f"refusing to close connections of vhost {vhost!r}: not a testbed's")
        done = subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "chaos"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl exited {done.returncode}: {done.stderr.strip()[-300:]}")
        found = re.search(r"Closed (\d+) connection", done.stdout)
        closed = int(found.group(1)) if found else 0
        return f"{closed} connections of vhost {vhost} closed", closed

    def kill_database_connections(self, share: float) -> tuple[str, int]:
        """KILL a share (at least one) of the processlist rows whose db is the testbed's database."""
        with self._server.connect() as conn:
            ids = sorted(conn.execute(text("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :db "
                                           "AND ID <> CONNECTION_ID()"), {"db": self.bed.database}).scalars())
            chosen = self._rng.sample(ids, max(1, round(len(ids) * share))) if ids else []
            killed = 0
            for conn_id in chosen:
                try:
                    conn.execute(text(f"KILL {int(conn_id)}"))
                    killed += 1
                except Exception:  # it ended meanwhile
                    pass
        return f"{killed} of {len(ids)} connections to {self.bed.database} killed", killed

    def watch(self) -> list[Crash]:
        """Record and restart every process that ended without being killed."""
        crashes = []
        with self.control:
            for name, process in list(self.bed.processes.items()):
                if process.alive or self.stopping.is_set():
                    continue
                tail = process.log.read_text(errors="replace")[-2000:]
                crash = Crash(name, self.elapsed(), process.popen.returncode, tail)
                self.log.crashes.append(crash)
                crashes.append(crash)
                self.say(f"CRASH: {name} ended on its own (exit {crash.exit_code}); started again")
                self.bed.restart(name)
        return crashes

    def close(self) -> None:
        """Release the server connection pool."""
        self._server.dispose()


def run_faults(injector: Injector, faults: tuple[FaultPlan, ...], driven: Driven, stopping: threading.Event,
               errors: list[BaseException]) -> None:
    """Inject each planned fault once its moment in the drive has come, at least MIN_GAP_SECONDS apart,
    watching for crashes in between. Ends when every fault was injected (or when stopping)."""
    try:
        last = 0.0
        for fault in faults:
            while not stopping.is_set() and driven.done < fault.at_credit and not driven.finished.is_set():
                injector.watch()
                stopping.wait(0.3)
            gap = MIN_GAP_SECONDS - (time.monotonic() - last)
            if gap > 0 and stopping.wait(gap):
                return
            if stopping.is_set():
                return
            injector.watch()
            if fault.kind.startswith("kill:") and fault.down_seconds >= LONG_OUTAGE_SECONDS:
                injector.say(f"fault {fault.number}/{len(faults)} {fault.kind}: a long outage begins "
                             f"({fault.down_seconds:.0f}s)")
            record = injector.inject(fault, driven.done)
            last = time.monotonic()
            status = "" if record.ok else " (FAILED to inject)"
            injector.say(f"fault {fault.number}/{len(faults)} {fault.kind}: {record.detail}{status}")
    except BaseException as e:  # the run reports it
        errors.append(e)
