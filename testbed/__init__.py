"""A testbed: the Procfile's processes and the STP sandbox on loopback, in a database, a RabbitMQ virtual
host and a Redis database of their own, started as an operator would start them, each process on its
own so that it can be killed and started again. ``dispersa bench`` and ``dispersa chaos`` run on it.

    with Testbed.create("bench", workdir) as bed:
        bed.start_all()
        ...  # drive bed.api (an httpx client with an admin key) and bed.settings
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Callable
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from adapters.bank.signer import generate_key_pair
from adapters.sealing import KEYRING, generate_key

REPO = Path(__file__).resolve().parents[1]  # in an installed wheel, its site-packages
BIN = Path(sys.executable).parent
# The Procfile, shipped in the package (in a checkout, a link to the one at its root), so that an installed
# ``dispersa bench`` or ``dispersa chaos`` runs the same processes as the checkout's.
PROCFILE = Path(__file__).resolve().parent / "Procfile"
NAME = re.compile(r"[a-z0-9_]{1,48}")
PASSPHRASE = "testbed"
SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306/"


class TestbedError(RuntimeError):
    """The testbed could not be set up or a process would not come up; the message says which and why."""


def checked_name(name: str) -> str:
    """A testbed's name (its database and vhost are ``dispersa_<name>``): lower-case letters, digits and
    underscores, so that two runs side by side take different names."""
    if not NAME.fullmatch(name):
        raise TestbedError(f"--name {name!r} is 1 to 48 lower-case letters, digits and underscores")
    return name


def checked_procfile(path: Path) -> Path:
    """The Procfile a testbed runs, read once to check it names the processes it needs."""
    try:
        names = set(procfile_commands(path))
    except (OSError, UnicodeDecodeError) as e:
        raise TestbedError(f"cannot read the Procfile {path}: {e}; give one with --procfile") from None
    missing = sorted({"web", "worker", "scheduler", "relay"} - names)
    if missing:
        raise TestbedError(f"the Procfile {path} has no {', '.join(missing)} process")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def procfile_commands(path: Path = PROCFILE) -> dict[str, list[str]]:
    """The Procfile's processes: name -> argv, with ``${VAR:-default}`` left for the shell to expand."""
    commands = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            name, command = line.split(":", 1)
            commands[name.strip()] = shlex.split(command)
    return commands


def fresh_database(server_url: str, name: str) -> URL:
    """Drop and create ``name`` (utf8mb4) on the server; returns its URL."""
    url = make_url(server_url).set(database=name)
    engine = create_engine(url.set(database=""))
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()
    return url


def own_vhost(name: str) -> str:
    """A RabbitMQ URL on a virtual host of its own (created with rabbitmqctl), so that nothing else
    on the machine consumes or purges the testbed's queues."""
    for argv in (["rabbitmqctl", "-q", "add_vhost", name],
                 ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        try:
            subprocess.run(argv, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TestbedError(f"rabbitmqctl is needed for a virtual host of the testbed's own: {e}") from None
    return f"amqp://guest:guest@127.0.0.1:5672/{quote(name, safe='')}"


@dataclass
class Process:
    """One running process of the testbed, in its own process group, its output in a file."""

    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    log: Path
    starts: int = 1

    @property
    def alive(self) -> bool:
        """True until the process has ended."""
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (a dramatiq worker's children included)."""
        if self.alive:
            try:
                os.killpg(self.popen.pid, signum)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds."""
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=10)


def data_keys() -> str:
    """The data keys of a testbed's processes: this process's own (it reads what they sealed), or a new
    key loaded here when it has none."""
    keys = os.environ.get("DISPERSA_DATA_KEYS", "")
    if not keys:
        keys = generate_key()
        os.environ["DISPERSA_DATA_KEYS"] = keys
    if not KEYRING.loaded:
        KEYRING.load(keys)
    return keys


@dataclass
class Testbed:
    """The environment (settings as DISPERSA_* variables), the processes started in it, and an API client."""

    name: str
    workdir: Path
    env: dict[str, str]
    web_url: str
    sandbox_port: int
    processes: dict[str, Process] = field(default_factory=dict)
    admin_key: str = ""
    approver_key: str = ""  # treasury's second person: approves what the admin asked for (dual control)
    sandbox_seed: int | None = None
    procfile: Path = PROCFILE  # whose processes start_all starts

    @classmethod
    def create(cls, name: str, workdir: Path, server_url: str = SERVER_URL, redis_db: int = 12,
               sandbox_scenario: str = "happy", sandbox_seed: int | None = None, procfile: Path = PROCFILE,
               **settings: Any) -> Testbed:
        """A new database ``dispersa_<name>`` (migrated), a vhost of that name, Redis db ``redis_db``
        (flushed), a signing key pair, and the settings every process gets. ``settings`` are extra
        DISPERSA_* values, by their lower-case names (``worker_threads=8``). ``sandbox_seed`` makes the
        sandbox draw the same outcomes and faults in the same order (``dispersa sandbox --seed``). The
        processes are ``procfile``'s."""
        checked_procfile(procfile)
        workdir.mkdir(parents=True, exist_ok=True)
        database = f"dispersa_{name}"
        url = fresh_database(server_url, database)
        private, public = generate_key_pair(PASSPHRASE)
        (workdir / "stp.pem").write_bytes(private)
        (workdir / "stp.pub").write_bytes(public)
        web_port, sandbox_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
        values: dict[str, Any] = {
            "database_url": url.render_as_string(hide_password=False), "broker": "rabbitmq",
            "rabbitmq_url": own_vhost(database), "redis_url": f"redis://127.0.0.1:6379/{redis_db}",
            "web_bind": f"127.0.0.1:{web_port}", "stp_base_url": f"http://127.0.0.1:{sandbox_port}",
            "stp_efws_url": f"http://127.0.0.1:{sandbox_port}", "stp_private_key_path": str(workdir / "stp.pem"),
            "stp_passphrase": PASSPHRASE, "webhook_secret": f"secreto-{name}",
            "gsma_callback_secret": f"secreto-gsma-{name}", "sandbox_scenario": sandbox_scenario,
            "sandbox_port": sandbox_port, "log_level": "WARNING",
            "worker_metrics_port": free_port(),  # testbeds side by side must not share the default port
            "data_keys": data_keys(),
        }
        values.update(settings)
        env.update({f"DISPERSA_{k.upper()}": str(v) for k, v in values.items()})
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        bed = cls(name, workdir, env, f"http://127.0.0.1:{web_port}", sandbox_port, sandbox_seed=sandbox_seed,
                  procfile=procfile)
        bed.run("dispersa", "db", "upgrade")
        subprocess.run(["redis-cli", "-n", str(redis_db), "flushdb"], capture_output=True)
        bed.admin_key = bed.run("dispersa", "apikey", "create", "--role", "admin", "--owner",
                                "admin@testbed.example").strip().splitlines()[-1]
        bed.approver_key = bed.run("dispersa", "apikey", "create", "--role", "treasury", "--owner",
                                   "checker@testbed.example").strip().splitlines()[-1]
        return bed

    def run(self, *argv: str, timeout: float = 600) -> str:
        """Run a command of ours to its end in the testbed's environment; returns its output."""
        done = self.run_status(*argv, timeout=timeout)
        if done.returncode != 0:
            raise TestbedError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout

    def run_status(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run a command of ours to its end in the testbed's environment, whatever its exit code."""
        return subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    # --- what the testbed owns -----------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """The testbed's database, as its processes reach it."""
        return self.env["DISPERSA_DATABASE_URL"]

    @property
    def database(self) -> str:
        """The name of the testbed's database (``dispersa_<name>``)."""
        return str(make_url(self.database_url).database)

    @property
    def vhost(self) -> str:
        """The testbed's own RabbitMQ virtual host (named after its database)."""
        return self.database

    @property
    def sandbox_url(self) -> str:
        """The sandbox's base URL (STP's paths, and its books at ``/_sandbox/books``)."""
        return f"http://127.0.0.1:{self.sandbox_port}"

    def destroy(self) -> None:
        """Drop what ``create`` made: the database, the virtual host and the Redis db's keys (processes
        must be stopped first). The workdir, with the logs, is left to the caller."""
        url = make_url(self.database_url)
        engine = create_engine(url.set(database=""))
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{self.database}`"))
        engine.dispose()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        redis_db = self.env["DISPERSA_REDIS_URL"].rsplit("/", 1)[-1]
        subprocess.run(["redis-cli", "-n", redis_db, "flushdb"], capture_output=True, timeout=30)

    # --- processes -----------------------------------------------------------------------------

    def sandbox_argv(self) -> list[str]:
        """``dispersa sandbox`` answering on the testbed's port and calling its webhook."""
        e = self.env
        return ["dispersa", "sandbox", "--port", str(self.sandbox_port), "--public-key",
                str(self.workdir / "stp.pub"), "--webhook-url", f"{self.web_url}/webhooks/stp/order-status",
                "--webhook-secret", e["DISPERSA_WEBHOOK_SECRET"],
                "--gsma-callback-secret", e["DISPERSA_GSMA_CALLBACK_SECRET"], "--scenario", e["DISPERSA_SANDBOX_SCENARIO"],
                *(["--seed", str(self.sandbox_seed)] if self.sandbox_seed is not None else [])]

    def start(self, name: str, argv: list[str] | None = None) -> Process:
        """Start (or start again) one process: a Procfile name, ``sandbox``, or any name with ``argv``.
        A Procfile line runs through the shell, as honcho runs it, so that its ``${VAR:-…}`` expand."""
        if argv is None:
            argv = self.sandbox_argv() if name == "sandbox" else procfile_commands(self.procfile)[name]
        old = self.processes.get(name)
        if old is not None and old.alive:
            raise TestbedError(f"{name} is running already")
        log = self.workdir / f"{name}.log"
        out = open(log, "ab")
        shell = ["/bin/sh", "-c", "exec " + " ".join(argv)] if name != "sandbox" and argv[0] != "/bin/sh" else argv
        popen = subprocess.Popen(shell, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        out.close()
        process = Process(name, argv, popen, log, starts=(old.starts + 1) if old else 1)
        self.processes[name] = process
        return process

    def start_all(self, names: tuple[str, ...] = ("web", "worker", "scheduler", "relay", "sandbox"),
                  timeout: float = 90) -> None:
        """Start the Procfile's processes and the sandbox, and wait until the API answers /health."""
        for name in names:
            self.start(name)
        self.wait_for(self._healthy, timeout, "the API's /health")

    def kill(self, name: str) -> None:
        """SIGKILL one process (its whole group) and reap it."""
        process = self.processes[name]
        process.signal(signal.SIGKILL)
        process.popen.wait(timeout=30)

    def restart(self, name: str) -> Process:
        """Start a killed or stopped process again, with the argv it had."""
        return self.start(name, self.processes[name].argv)

    def stop(self) -> None:
        """Stop every process, the web last (the others may still be writing to it)."""
        for name in sorted(self.processes, key=lambda n: n == "web"):
            self.processes[name].stop()

    def logs(self, tail: int = 3000) -> str:
        """The end of each process's output, for a failure message."""
        return "\n".join(f"[{name}] {p.log.read_text(errors='replace')[-tail:]}" for name, p in self.processes.items())

    # --- waiting and the API -------------------------------------------------------------------

    def _healthy(self) -> bool:
        return httpx.get(f"{self.web_url}/health", timeout=5).status_code == 200

    def wait_for(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``check`` until it is truthy; TestbedError with the processes' output on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = check()
            except httpx.HTTPError:
                result = None
            if result:
                return result
            time.sleep(0.25)
        raise TestbedError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.logs()}")

    def api(self, timeout: float = 30) -> httpx.Client:
        """An HTTP client of the web process with the admin key."""
        return httpx.Client(base_url=self.web_url, headers={"Authorization": f"Bearer {self.admin_key}"},
                            timeout=timeout)

    def __enter__(self) -> Testbed:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
