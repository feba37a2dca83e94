"""Shared helpers of the ledger integration tests: a RabbitMQ virtual host per test database, an
in-process dramatiq worker on the real broker, "publish and process until quiet", data builders,
row counts and worker subprocesses. Every wait is bounded by a deadline.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Callable, Iterator
from urllib.parse import quote

import dramatiq
from dramatiq import Message
from dramatiq.common import q_name
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from adapters.db.tables import event_log, outbox
from adapters.settings import Settings
from domain import clabe
from tests.conftest import MYSQL_URL, TEST_DATA_KEYS, TEST_REDIS_URL
from tests.factories import validated_store
from domain.merchants import OfferAction
from usecases import catalog, credits as credit_cases, products
from bootstrap import Container, build_container, relay as relay_of

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
LEDGER_QUEUE = "ledger"

# What an actor may write; a redelivered message must leave every one of these unchanged.
LEDGER_TABLES = ("balance_updates", "balance_update_status_history", "bank_transfers", "bank_transfer_items",
                 "bank_transfer_status_history", "trigger_evaluations", "commission_updates", "outbox")


# --- RabbitMQ isolation ---------------------------------------------------------------------------

@lru_cache(maxsize=None)
def rabbitmq_url_for(database: str) -> str:
    """A RabbitMQ URL on a virtual host named after the test database, so that other test runs
    (which purge and consume the shared queues of the default vhost) cannot steal or drop our
    messages. Falls back to the default vhost where rabbitmqctl is not usable."""
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", database], capture_output=True, timeout=15)
        done = subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", database, "guest", ".*", ".*", ".*"],
                              capture_output=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_RABBITMQ_URL
    if done.returncode != 0:
        return DEFAULT_RABBITMQ_URL
    return f"amqp://guest:guest@127.0.0.1:5672/{quote(database, safe='')}"


def on_own_vhost(settings: Settings) -> Settings:
    """The conftest settings (MariaDB test db, RabbitMQ, Redis db 15, short retries) on our own vhost."""
    database = make_url(settings.database_url).database or "dispersa_test"
    return settings.model_copy(update={"rabbitmq_url": rabbitmq_url_for(database)})


def isolated_settings(db_url: str, **overrides: Any) -> Settings:
    """Settings like the conftest fixture's (RabbitMQ, Redis db 15, short retries) for ``db_url``,
    on our own vhost; for modules that build them from the database URL alone."""
    fields: dict[str, Any] = {"database_url": db_url, "broker": "rabbitmq", "redis_url": TEST_REDIS_URL,
                              "max_retries": 2, "min_backoff_ms": 50, "max_backoff_ms": 500}
    fields.update(overrides)
    return on_own_vhost(Settings(_env_file=None, **fields))


# --- the in-process worker and "until quiet" ----------------------------------------------------------

class Traffic(dramatiq.Middleware):
    """Counts what went onto the worker's queues and what the worker finished (acked or rejected).

    One instance may sit on several brokers (relays on one, the worker on another), so that
    ``outstanding`` covers every message in play. Messages for queues nobody consumes here
    (the bank steps of a Sending transfer) are not counted.
    """

    def __init__(self, queues: frozenset[str] = frozenset({LEDGER_QUEUE})) -> None:
        self.queues = queues
        self._lock = threading.Lock()
        self.enqueued: Counter[str] = Counter()  # message id -> times published
        self.published_actors: Counter[str] = Counter()
        self.finished = 0

    def before_enqueue(self, broker: dramatiq.Broker, message: Message, delay: int) -> None:
        if q_name(message.queue_name) not in self.queues:
            return
        with self._lock:
            self.enqueued[message.message_id] += 1
            self.published_actors[message.actor_name] += 1

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self.finished += 1

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self.finished += 1

    @property
    def outstanding(self) -> int:
        with self._lock:
            return sum(self.enqueued.values()) - self.finished


def traffic_of(broker: dramatiq.Broker) -> Traffic:
    for middleware in broker.middleware:
        if isinstance(middleware, Traffic):
            return middleware
    traffic = Traffic()
    broker.add_middleware(traffic)
    return traffic


@contextmanager
def running_worker(container: Container, threads: int = 2) -> Iterator[Traffic]:
    """A dramatiq Worker on the container's (RabbitMQ) broker, consuming the ledger queue (the bank
    steps belong to the next issue's tests), stopped on exit."""
    traffic = traffic_of(container.broker)
    worker = dramatiq.Worker(container.broker, queues=set(traffic.queues), worker_threads=threads,
                             worker_timeout=100)  # ms: a short poll makes stop() quick
    worker.start()
    try:
        yield traffic
    finally:
        worker.stop(timeout=30_000)


def settle(container: Container, traffic: Traffic, timeout: float = 30.0) -> None:
    """Publish the outbox and let the worker process everything, until nothing is left to do.

    Quiet means: two polls in a row where the relay found nothing to publish and every published
    message was acked or rejected (an actor commits its own outbox rows before its ack).
    """
    relay = relay_of(container)
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        published = relay.drain()
        quiet = quiet + 1 if published == 0 and traffic.outstanding <= 0 else 0
        if time.monotonic() > deadline:
            raise AssertionError(f"not quiet after {timeout}s: {traffic.outstanding} messages outstanding, "
                                 f"{unpublished(container)} outbox rows unpublished; "
                                 f"failures: {actor_failures(container)}")
        time.sleep(0.02)


class RelayThread:
    """The outbox relay, publishing in a thread of this process until stopped."""

    def __init__(self, container: Container):
        self.relay, self.stopping = relay_of(container), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RelayThread:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stopping.is_set():
            if self.relay.publish_batch() == 0:
                self.stopping.wait(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               check: Callable[[], None] | None = None, diagnose: Callable[[], str] | None = None) -> None:
    """Poll ``condition`` until it holds; ``check`` may raise to fail early (a crashed process),
    ``diagnose`` says what the state was when time ran out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if check is not None:
            check()
        if time.monotonic() > deadline:
            details = f"\n{diagnose()}" if diagnose is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{details}")
        time.sleep(0.1)


def enqueue(container: Container, actor_name: str, *args: Any, message_id: str | None = None) -> Message:
    """Put a message straight onto the ledger queue: a redelivery (same id) or a duplicate (new id)."""
    message = Message(queue_name=LEDGER_QUEUE, actor_name=actor_name, args=args, kwargs={}, options={},
                      **({"message_id": message_id} if message_id else {}))
    return container.broker.enqueue(message)


@contextmanager
def extra_container(settings: Settings, home: Container) -> Iterator[Container]:
    """Another process's composition root (a restarted relay, a second scheduler) on the same services;
    its actors are bound to it, ``home``'s stay bound to ``home``."""
    other = build_container(settings, clock=home.clock)
    try:
        yield other
    finally:
        other.broker.close()
        other.engine.dispose()


# --- data ---------------------------------------------------------------------------------------------

def new_store(container: Container, **store_fields: Any) -> int:
    with container.uow() as uow:
        store_id = validated_store(uow, **store_fields)
        uow.commit()
    return store_id


def tiered_store(container: Container, tiers: list[dict[str, Any]], *, auto_updatable: tuple[int, ...] = (3,),
                 fixed: tuple[int, ...] = (6,), commission: str = "0.05",
                 timezone: str | None = None) -> tuple[int, int]:
    """A validated merchant with monthly commission tiers and one store whose options with
    ``auto_updatable`` payments follow the tiers; returns (merchant id, store id)."""
    with container.uow() as uow:
        merchant = catalog.create_merchant(uow, "Tiered Merchant", tiers=tiers, timezone=timezone)
        store = catalog.create_store(uow, merchant.id, {
            "name": "Tiered Store", "clabe": clabe.make("646", "180", f"{merchant.id + 7_000_000:011d}"),
            "beneficiary_name": "Tienda Escalonada", "disbursement_mode": "daily", "automation_enabled": True})
        for n in auto_updatable + fixed:
            option = catalog.create_option(uow, store.id, {
                "number_of_payments": n, "merchant_commission": commission, "min_amount": 1,
                "max_amount": 10**9, "can_commission_be_auto_updated": n in auto_updatable})
            catalog.validate_option(uow, option.id)
            products.move_offer(uow, option.id, OfferAction.ENABLE)  # type: ignore[arg-type]
        catalog.validate_store(uow, store.id)
        catalog.validate_merchant(uow, merchant.id)
        uow.commit()
        return merchant.id, store.id  # type: ignore[return-value]


def originate(container: Container, store_id: int, external_id: str, amount: int, payments: int = 3) -> int:
    with container.uow() as uow:
        credit = credit_cases.originate(uow, store_id, external_id, amount, payments)
        uow.commit()
        return credit.id  # type: ignore[return-value]


def deliver(container: Container, credit_id: int) -> None:
    with container.uow() as uow:
        credit_cases.deliver(uow, credit_id)
        uow.commit()


def cancel(container: Container, credit_id: int, reason: str = "returned") -> None:
    with container.uow() as uow:
        credit_cases.cancel(uow, credit_id, reason)
        uow.commit()


def delivered_credits(container: Container, store_id: int, amounts: list[int], prefix: str = "c") -> list[int]:
    """Originate and deliver one credit per amount; their contribute messages wait in the outbox."""
    ids = []
    for i, amount in enumerate(amounts):
        credit_id = originate(container, store_id, f"{prefix}-{i}", amount)
        deliver(container, credit_id)
        ids.append(credit_id)
    return ids


# --- reading the database -------------------------------------------------------------------------------

def scalar(container: Container, sql: str, **params: Any) -> Any:
    with container.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(container: Container, sql: str, **params: Any) -> list[Any]:
    with container.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def execute(container: Container, sql: str, **params: Any) -> int:
    with container.engine.begin() as conn:
        return conn.execute(text(sql), params).rowcount


def count(container: Container, table: str, where: str = "1=1", **params: Any) -> int:
    return int(scalar(container, f"SELECT COUNT(*) FROM `{table}` WHERE {where}", **params))


def snapshot(container: Container) -> dict[str, Any]:
    """Row counts of every table an actor writes, plus every store's head and every option's rate."""
    with container.engine.connect() as conn:
        found: dict[str, Any] = {t: conn.execute(text(f"SELECT COUNT(*) FROM `{t}`")).scalar() for t in LEDGER_TABLES}
        found["stores"] = list(conn.execute(text("SELECT id, balance, last_sequence FROM stores ORDER BY id")).all())
        found["options"] = list(conn.execute(text(
            "SELECT id, merchant_commission, validated FROM payment_options ORDER BY id")).all())
        found["bu_statuses"] = list(conn.execute(text("SELECT id, status FROM balance_updates ORDER BY id")).all())
    return found


def unpublished(container: Container) -> int:
    with container.sessions() as session:
        return int(session.execute(select(func.count()).select_from(outbox)
                                   .where(outbox.c.published_at.is_(None))).scalar() or 0)


def actor_failures(container: Container) -> list[str]:
    with container.sessions() as session:
        return list(session.scalars(select(event_log.c.message).where(event_log.c.kind == "actor_failure")))


def outbox_message(container: Container, actor_name: str) -> tuple[str, list[Any]]:
    """The message id and arguments of the one outbox row addressed to ``actor_name``."""
    with container.sessions() as session:
        found = session.execute(select(outbox.c.message_id, outbox.c.args)
                                .where(outbox.c.actor_name == actor_name)).all()
    assert len(found) == 1, f"expected one {actor_name} row in the outbox, found {len(found)}"
    return str(found[0].message_id), list(found[0].args)


# --- worker subprocesses --------------------------------------------------------------------------------

@dataclass
class WorkerProcesses:
    """``dramatiq workers.main`` processes consuming the ledger queue, each in its own process group."""

    env: dict[str, str]
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, count: int, threads: int = 4) -> None:
        for i in range(count):
            log = open(self.log_dir / f"worker-{i}.stderr", "w+b")
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [str(VENV_BIN / "dramatiq"), "workers.main", "--processes", "1", "--threads", str(threads),
                 "--queues", LEDGER_QUEUE],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def stderr(self, i: int, tail: int = 6000) -> str:
        self.logs[i].flush()
        data = (self.log_dir / f"worker-{i}.stderr").read_bytes()
        return data[-tail:].decode(errors="replace")

    def stderr_tails(self, tail: int = 3000) -> str:
        return "\n".join(f"--- worker {i} output ---\n{self.stderr(i, tail)}" for i in range(len(self.procs)))

    def check_alive(self) -> None:
        """Fail loudly, with the worker's output, when a worker process has exited."""
        for i, proc in enumerate(self.procs):
            if proc.poll() is not None:
                raise AssertionError(f"worker process {i} exited with {proc.returncode}:\n{self.stderr(i)}")

    def stop(self) -> None:
        """SIGTERM each process group we started (the dramatiq parent and its worker children);
        SIGKILL what has not stopped after 20 seconds."""
        for proc in self.procs:
            _signal_group(proc, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
        for log in self.logs:
            log.close()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def cli_env(database_url: str) -> dict[str, str]:
    """The environment of a ``dispersa`` command run by an operator against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    env.update({"DISPERSA_DATABASE_URL": database_url, "DISPERSA_DATA_KEYS": TEST_DATA_KEYS})
    return env


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker (or CLI) process pointed at the test services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    env.update({"DISPERSA_DATABASE_URL": settings.database_url, "DISPERSA_BROKER": "rabbitmq",
                "DISPERSA_REDIS_URL": settings.redis_url, "DISPERSA_RABBITMQ_URL": settings.rabbitmq_url,
                "DISPERSA_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", "DISPERSA_DATA_KEYS": settings.data_keys})
    env.update(extra)
    return env


@contextmanager
def scratch_database(kind: str, tmp_path: Path, name: str) -> Iterator[str]:
    """The address of an empty database of its own: a SQLite file under ``tmp_path``, or a MariaDB database
    named after the tests' own (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    url = make_url(MYSQL_URL).set(database=f"{make_url(MYSQL_URL).database}_{name}")
    server = create_engine(url.set(database=""))
    drop = f"DROP DATABASE IF EXISTS `{url.database}`"
    try:
        for statement in (drop, f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"):
            with server.begin() as conn:
                conn.execute(text(statement))
        yield url.render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(text(drop))
        server.dispose()


@contextmanager
def database_at(kind: str, revision: str, name: str, tmp_path: Path) -> Iterator[str]:
    """A scratch database (``mariadb`` beside the test one, or the demo's ``sqlite``) migrated to
    ``revision``; its address. The MariaDB one is dropped afterwards."""
    from adapters.db.migrate import upgrade

    if kind == "sqlite":  # the demo's database; its tables are rebuilt by some migrations
        address = f"sqlite:///{tmp_path / f'{name}.db'}"
        upgrade(address, revision)
        yield address
        return
    url = make_url(MYSQL_URL).set(database=f"{make_url(MYSQL_URL).database}_{name}")
    server = create_engine(url.set(database=""))
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    address = url.render_as_string(hide_password=False)
    upgrade(address, revision)
    try:
        yield address
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        server.dispose()
