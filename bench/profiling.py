"""``--profile``: py-spy records a process of the testbed (and its children) while a scenario loads it,
and the stacks are summed up by where the time goes: round trips to MariaDB, PyMySQL, SQLAlchemy's ORM
or Core, dispersa's own code, Dramatiq, and so on.

Two recordings run side by side: ``wall`` (every sample of a thread doing work, waiting included: for
MariaDB, for a CPU, for the GIL) and ``gil`` (only the thread holding its process's GIL: where the
interpreter's CPU goes, and how close each process is to its one core of Python). The raw stacks stay
in the work directory, one ``profile-<scenario>-<kind>.txt`` each (collapsed, for flamegraph.pl or
speedscope)."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

SAMPLE_RATE = 100
OURS = ("domain", "usecases", "adapters", "actors", "web", "bootstrap", "workers", "scheduler")
PACKAGES = (  # (first path component(s), category), checked in order
    ("pymysql", "PyMySQL (driver CPU)"),
    ("sqlalchemy/orm", "SQLAlchemy ORM"),
    ("sqlalchemy", "SQLAlchemy Core (compile, execute, pool, types)"),
    ("dramatiq", "Dramatiq"), ("pika", "pika (RabbitMQ client)"),
    ("falcon", "web framework (falcon, gunicorn, gevent)"), ("gunicorn", "web framework (falcon, gunicorn, gevent)"),
    ("gevent", "web framework (falcon, gunicorn, gevent)"),
    ("httpx", "HTTP client (httpx)"), ("httpcore", "HTTP client (httpx)"), ("h11", "HTTP client (httpx)"),
    ("cryptography", "signing (cryptography)"), ("redis", "Redis client"),
)
WAITS = (("pymysql", "MariaDB round trips (socket)"), ("httpcore", "HTTP round trips (STP, socket)"),
         ("pika", "RabbitMQ (socket)"), ("redis", "Redis round trips (socket)"))
CONNECTING = (("Connection.__init__ (pymysql/connections.py", "Connection.connect (pymysql/connections.py"),
              "opening MariaDB connections (PyMySQL connect, SSL context)")
BLOCKING_LEAVES = ("readinto (socket.py", "recv_into", "_read_bytes (pymysql", "_write_bytes (pymysql",
                   "recv (socket.py", "read (ssl.py", "_read_packet (pymysql", "sendall (socket.py",
                   "wait (threading.py", "select (selectors.py", "(gevent/_socketcommon.py", "(gevent/_socket3.py")
WORK_MARKERS = {"worker": "process_message (dramatiq/worker.py", "web": "App.__call__ (falcon/app.py"}


def split_line(line: str) -> tuple[list[str], int]:
    """A collapsed line (``thread (1): name;frame;frame 12``) as its frames, root first, and its count."""
    stack, _, count = line.rstrip().rpartition(" ")
    frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process ")) and f]
    return frames, int(count or 0)


def file_of(frame: str) -> str:
    """The file of a frame ``function (path/file.py:12)``."""
    return frame.rpartition("(")[2].rstrip(")").rsplit(":", 1)[0]


def category_of(frame: str) -> str | None:
    """The category of one frame by its file, or None for the standard library."""
    path = file_of(frame)
    for prefix, category in PACKAGES:
        if path.startswith(prefix + "/") or path == prefix + ".py":
            return category
    if path.split("/", 1)[0] in OURS:
        return "dispersa code"
    return None


def classify(frames: list[str]) -> str:
    """Where one sample's time goes: opening a database connection; a round trip when the leaf is in a
    socket call; else the innermost frame that is not the standard library's."""
    if any(marker in f for f in frames for marker in CONNECTING[0]):
        return CONNECTING[1]
    leaf = frames[-1] if frames else ""
    if any(marker in leaf for marker in BLOCKING_LEAVES):
        for frame in reversed(frames):
            for package, wait in WAITS:
                if file_of(frame).startswith(package + "/"):
                    return wait
    for frame in reversed(frames):
        category = category_of(frame)
        if category is not None:
            return category
    return "other (standard library, interpreter)"


def function_of(frame: str) -> str:
    """A frame without its line number: ``contribute (usecases/ledger.py)``."""
    return f"{frame.rpartition(' (')[0]} ({file_of(frame)})"


def summarize(lines: Iterable[str], marker: str | None, top: int = 12) -> dict[str, Any]:
    """The samples of threads doing work (their stack holds ``marker``; every sample without one): the
    share of each category, and dispersa's functions that hold the most time (inclusive)."""
    categories: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = everything = 0
    for line in lines:
        frames, count = split_line(line)
        everything += count
        if not frames or (marker and not any(marker in f for f in frames)):
            continue
        total += count
        categories[classify(frames)] += count
        for name in {function_of(f) for f in frames if category_of(f) == "dispersa code"}:
            ours[name] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {"samples": total, "all_samples": everything,
            "categories_pct": {k: share(v) for k, v in categories.most_common()},
            "dispersa_functions_inclusive_pct": {k: share(v) for k, v in ours.most_common(top)}}


class Profiler:
    """Records processes with py-spy while scenarios run, when asked to and when py-spy is there."""

    def __init__(self, enabled: bool, workdir: Path):
        self.enabled = enabled
        self.workdir = workdir
        self.py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        self.results: dict[str, Any] = {}
        self._running: dict[str, tuple[str, float, dict[str, tuple[subprocess.Popen[bytes], Path]]]] = {}

    @property
    def available(self) -> bool:
        """Whether recordings will be made."""
        return self.enabled and self.py_spy is not None

    @contextmanager
    def recording(self, name: str, pid: int, kind: str) -> Iterator[None]:
        """Record ``pid`` and its children while the block runs (see ``start``)."""
        self.start(name, pid, kind)
        try:
            yield
        finally:
            self.stop(name)

    def start(self, name: str, pid: int, kind: str) -> None:
        """Begin recording ``pid`` and its children as ``name`` (once); ``kind`` (worker, web) picks the
        frames that mark a thread doing work."""
        if self.available and name not in self._running and name not in self.results:
            self._running[name] = (kind, time.monotonic(),
                                   {mode: self._start(name, pid, mode) for mode in ("wall", "gil")})

    def stop(self, name: str) -> None:
        """End the recording ``name``; its summary lands in ``results[name]``."""
        if name in self._running:
            kind, started, recorders = self._running.pop(name)
            seconds = time.monotonic() - started
            self.results[name] = {mode: self._finish(process, path, WORK_MARKERS.get(kind))
                                  for mode, (process, path) in recorders.items()}
            gil = self.results[name]["gil"]
            if "all_samples" in gil:  # each sample is one process holding its GIL for 1/SAMPLE_RATE s
                gil["seconds"] = round(seconds, 1)
                gil["gil_held_processes"] = round(gil["all_samples"] / SAMPLE_RATE / seconds, 2)

    def _start(self, name: str, pid: int, mode: str) -> tuple[subprocess.Popen[bytes], Path]:
        path = self.workdir / f"profile-{name}-{mode}.txt"
        argv = [str(self.py_spy), "record", "--pid", str(pid), "--subprocesses", "--threads", "--nonblocking",
                "--format", "raw", "--rate", str(SAMPLE_RATE), "--output", str(path),
                "--idle" if mode == "wall" else "--gil"]
        log = open(self.workdir / f"py-spy-{name}-{mode}.log", "wb")
        try:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), path
        finally:
            log.close()

    @staticmethod
    def _finish(process: subprocess.Popen[bytes], path: Path, marker: str | None) -> dict[str, Any]:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            return {"error": "py-spy did not stop"}
        if not path.exists():
            return {"error": f"py-spy wrote nothing (exit {process.returncode}); see {path.parent}/py-spy-*.log"}
        return {"file": str(path), **summarize(path.read_text().splitlines(), marker)}
