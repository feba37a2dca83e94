"""Facts about the machine the figures come from, and whether something else was keeping it busy."""
from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
BUSY_PROCESS_PCT = 5.0
SERVICES = ("mariadbd", "mysqld", "beam.smp", "redis-server", "epmd", "erl_child_setup", "inet_gethost")


def memory_gib() -> float | None:
    """Total memory in GiB, from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def rabbitmq_version() -> str | None:
    """RabbitMQ's version, as rabbitmqctl says it."""
    try:
        done = subprocess.run(["rabbitmqctl", "-q", "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def facts() -> dict[str, Any]:
    """CPUs, memory, OS and Python."""
    return {"cpus": os.cpu_count(), "memory_gib": memory_gib(), "platform": platform.platform(),
            "python": platform.python_version(), "hostname": platform.node(), "rabbitmq": rabbitmq_version()}


def cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


@dataclass(frozen=True)
class ProcessCpu:
    """One process: its command, its parent and the CPU it has used so far (clock ticks)."""

    name: str
    ppid: int
    ticks: int


def process_cpu() -> dict[int, ProcessCpu]:
    """Every process we may read, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            rest = stat[stat.rindex(")") + 2:].split()
            found[int(entry.name)] = ProcessCpu(name, int(rest[1]), int(rest[11]) + int(rest[12]))
        except (OSError, ValueError, IndexError):
            continue
    return found


KERNEL_THREADS_PARENT = 2  # kthreadd: kernel threads (I/O, writeback) work for every process


def shared_work(pid: int, entry: ProcessCpu) -> bool:
    """Whether a process works for everyone (MariaDB, RabbitMQ, Redis, the kernel's threads), so that
    its CPU is not another user's disturbance."""
    return entry.name in SERVICES or pid == KERNEL_THREADS_PARENT or entry.ppid == KERNEL_THREADS_PARENT


def descends_from(pid: int, ancestor: int, table: dict[int, ProcessCpu]) -> bool:
    """Whether ``pid`` is ``ancestor`` or one of its descendants."""
    seen = 0
    while pid > 1 and seen < 64:
        if pid == ancestor:
            return True
        entry = table.get(pid)
        if entry is None:
            return False
        pid, seen = entry.ppid, seen + 1
    return False


@dataclass
class Disturbance:
    """Samples, every few seconds in a thread of its own, the CPU that processes other than the bench's
    (and other than the shared services: MariaDB, RabbitMQ, Redis) use, by phase of the run."""

    every: float = 2.0
    phase: str = "setup"
    others_ticks: Counter[str] = field(default_factory=Counter)      # phase -> ticks of other processes
    phase_seconds: dict[str, float] = field(default_factory=dict)
    commands: Counter[str] = field(default_factory=Counter)           # other command -> ticks
    own_ticks: Counter[str] = field(default_factory=Counter)          # phase -> ticks of the bench process itself
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin sampling."""
        self._thread = threading.Thread(target=self._run, name="bench-disturbance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End sampling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        me, last, at = os.getpid(), process_cpu(), time.monotonic()
        while not self._stop.wait(self.every):
            now, when = process_cpu(), time.monotonic()
            self.phase_seconds[self.phase] = self.phase_seconds.get(self.phase, 0.0) + when - at
            for pid, entry in now.items():
                before = last.get(pid)
                used = entry.ticks - (before.ticks if before and before.name == entry.name else 0)
                if pid == me:
                    self.own_ticks[self.phase] += used
                elif used > 0 and not shared_work(pid, entry) and not descends_from(pid, me, now):
                    self.others_ticks[self.phase] += used
                    self.commands[entry.name] += used
            last, at = now, when

    def share(self, phase: str, of: Counter[str] | None = None) -> float | None:
        """Percent of the machine's CPU time that other processes (or ``of``'s) used during ``phase``."""
        seconds = self.phase_seconds.get(phase, 0.0)
        if seconds <= 0:
            return None
        ticks = (self.others_ticks if of is None else of).get(phase, 0)
        return round(100 * ticks / CLOCK_TICKS / (seconds * (os.cpu_count() or 1)), 1)

    def summary(self) -> dict[str, Any]:
        """Per phase, the share other processes took; and which commands they were."""
        return {"others_cpu_pct_by_phase": {p: self.share(p) for p in self.phase_seconds},
                "bench_process_cpu_pct_by_phase": {p: self.share(p, self.own_ticks) for p in self.phase_seconds},
                "other_commands_cpu_seconds": {k: round(v / CLOCK_TICKS, 1) for k, v in self.commands.most_common(8)},
                "note": "percent of all CPUs used by processes not of this run (MariaDB, RabbitMQ, Redis and "
                        "the kernel's threads excluded: they work for everyone)"}


SHARED = ("mariadbd", "mysqld", "beam.smp", "redis-server")


def cpu_snapshot(roots: dict[str, int]) -> dict[str, int]:
    """CPU used so far (clock ticks) by each named process tree (``roots``: name -> pid), by the shared
    services (MariaDB, RabbitMQ, Redis: every client's), and by this process itself (``bench``)."""
    table = process_cpu()
    found = dict.fromkeys([*roots, *SHARED, "bench"], 0)
    for pid, entry in table.items():
        owner = next((name for name, root in roots.items() if descends_from(pid, root, table)), None)
        if owner is None and entry.name in SHARED:
            owner = entry.name
        if owner is None and pid == os.getpid():
            owner = "bench"
        if owner is not None:
            found[owner] += entry.ticks
    return found


def cpu_ms_per_item(before: dict[str, int], after: dict[str, int], items: int) -> dict[str, float]:
    """Milliseconds of CPU per item each process tree used between two snapshots (those that used any)."""
    if items <= 0:
        return {}
    used = {name: (after.get(name, 0) - before.get(name, 0)) * 1000 / CLOCK_TICKS / items for name in after}
    return {name: round(ms, 3) for name, ms in sorted(used.items(), key=lambda kv: -kv[1]) if ms > 0}


def cpu_seconds(before: dict[str, int], after: dict[str, int], name: str) -> float:
    """Seconds of CPU ``name`` used between two snapshots."""
    return (after.get(name, 0) - before.get(name, 0)) / CLOCK_TICKS


def busy_now(seconds: float = 1.0) -> dict[str, Any]:
    """How busy the machine is over ``seconds``: its CPU use, its load average, and the processes that
    used more than 5 % of a CPU meanwhile (another engineer's tests or chaos run disturb the figures)."""
    machine_before, before = cpu_times(), process_cpu()
    time.sleep(seconds)
    machine_after, after = cpu_times(), process_cpu()
    busy = None
    if machine_before and machine_after and machine_after[1] > machine_before[1]:
        busy = round(100 * (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1]), 1)
    processes: list[dict[str, Any]] = []
    for pid, entry in after.items():
        if pid in before and pid != os.getpid():
            pct = 100 * (entry.ticks - before[pid].ticks) / CLOCK_TICKS / seconds
            if pct >= BUSY_PROCESS_PCT:
                processes.append({"pid": pid, "command": entry.name, "cpu_pct": round(pct, 1)})
    return {"machine_cpu_busy_pct": busy, "load_average": list(os.getloadavg()),
            "busy_processes": sorted(processes, key=lambda p: -float(p["cpu_pct"]))[:10]}


def disturbed(sample: dict[str, Any]) -> bool:
    """Whether something else was using the machine noticeably."""
    return (sample.get("machine_cpu_busy_pct") or 0) > 15


def described(sample: dict[str, Any]) -> str:
    """A sample of ``busy_now`` in words."""
    busiest = ", ".join(f"{p['command']} {p['cpu_pct']:.0f} %" for p in sample.get("busy_processes", [])[:4])
    return (f"CPUs {sample.get('machine_cpu_busy_pct')} % busy, load average {sample['load_average'][0]:.1f}"
            + (f"; busiest: {busiest}" if busiest else ""))
