"""The composition root: engine, broker, Redis, clock and ids, built from one Settings object."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import dramatiq
import falcon
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import actors
from actors.bulk import BulkWiring
from adapters.acknowledgements import AcknowledgementSender
from adapters.connectors.gsma import GsmaConnector, read_callback as gsma_callback
from adapters.connectors.mojaloop import MojaloopConnector
from adapters.storage import FileStorage
from adapters import logs
from adapters.broker import add_log_context, build_broker, last_attempt
from adapters.clock import utc_now
from adapters.counters import MinuteCounter
from adapters.queue_depths import queue_depths
from adapters.dead_letter_queues import DeadLetterQueues, RabbitmqDeadLetterQueues, StubDeadLetterQueues
from adapters.db.engine import NotStrict, build_engine, require_strict, session_factory
from adapters.db.outbox import new_message_id
from adapters.db.uow import UnitOfWork
from adapters.bank.signer import Signer
from adapters.bank.stp_client import StpClient
from adapters.ratelimit import LocalRateLimiter, RateLimiter
from adapters.relay import Relay
from adapters.sealing import KEYRING
from adapters.settings import Settings
from domain.callbacks import CallbackAddresses
from domain.dead_letters import DeadMessage
from domain.payment_orders import Ordering
from domain.stp import DEFAULT_ESTADOS, OrderOutcome
from usecases import dead_letters, steps
from usecases.payouts import PayoutConfig
from web.app import BulkServices, WebSettings, create_app
from web.health import broker_check, database_check, redis_check

log = logging.getLogger("dispersa")


@dataclass
class Container:
    """What every process needs, built once; tests replace only ``clock`` and ``new_id``."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    broker: dramatiq.Broker
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], str] = new_message_id
    _redis: Any = field(default=None, repr=False)
    _stp_client: StpClient | None = field(default=None, repr=False)
    _bulk: BulkWiring | None = field(default=None, repr=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, self.new_id)

    @property
    def payout_config(self) -> PayoutConfig:
        s = self.settings
        estados = dict(DEFAULT_ESTADOS)
        estados.update({k: OrderOutcome(v) for k, v in s.stp_estados.items()})
        return PayoutConfig(Ordering(s.stp_empresa, s.stp_ordering_account, s.stp_ordering_name, s.stp_ordering_rfc),
                            s.stp_tracking_prefix, estados, s.stp_send_rounds, s.transfer_approval_above)

    @property
    def stp_client(self) -> StpClient:
        if self._stp_client is None:
            s = self.settings
            if not s.stp_private_key_path:
                raise RuntimeError("DISPERSA_STP_PRIVATE_KEY_PATH is not set: orders cannot be signed")
            signer = Signer.from_file(s.stp_private_key_path, s.stp_passphrase or None)
            limiter = (RateLimiter(self.redis, "stp", s.stp_rate_limit_per_second) if s.redis_url
                       else LocalRateLimiter(s.stp_rate_limit_per_second))
            self._stp_client = StpClient(s.stp_base_url, s.stp_efws_url, s.stp_empresa, signer,
                                         s.stp_timeout_seconds, acquire=limiter.acquire)
        return self._stp_client

    @property
    def storage(self) -> FileStorage:
        """Where uploaded batch files are kept."""
        return FileStorage(self.settings.bulk_storage_dir)

    def limiter(self, name: str, per_second: int) -> RateLimiter | LocalRateLimiter:
        """A per-second cap shared by every process through Redis (within the process without Redis)."""
        return RateLimiter(self.redis, name, per_second) if self.settings.redis_url else LocalRateLimiter(per_second)

    @property
    def bulk(self) -> BulkWiring:
        """What the bulk steps need: storage, the remote connectors, the per-connector rate limits, the
        callback base URL, the sub-batches run at once, and the acknowledgement sender."""
        if self._bulk is None:
            s = self.settings
            rates = {"spei": s.bulk_rate_spei, "closedloop": s.bulk_rate_closedloop, "gsma": s.bulk_rate_gsma,
                     "mojaloop": s.bulk_rate_mojaloop}
            limiters = {name: self.limiter(f"bulk:{name}", rate) for name, rate in rates.items()}
            remotes: dict[str, Any] = {
                "gsma": GsmaConnector(s.gsma_base_url, s.connector_timeout_seconds),
                "mojaloop": MojaloopConnector(s.mojaloop_base_url, s.connector_timeout_seconds),
            }
            sender = AcknowledgementSender(s.acknowledgement_timeout_seconds,
                                           addresses=CallbackAddresses.allowing(s.callback_allow))
            self._bulk = BulkWiring(
                open_file=self.storage.open, remote=remotes.__getitem__,
                throttle=lambda name, rows: limiters[name].acquire(rows), callback_base=lambda: s.public_url,
                parallel=max(1, s.bulk_parallel_sub_batches),
                chunk=lambda name: max(1, min(500, rates[name])) if rates[name] > 0 else 500, post=sender.post,
                last_attempt=last_attempt(s.max_retries))
        return self._bulk

    @property
    def dead_letter_queues(self) -> DeadLetterQueues:
        """The broker's ``<queue>.XQ`` queues, which the drain step empties into the dead letter table."""
        if self.settings.broker == "rabbitmq":
            return RabbitmqDeadLetterQueues(self.settings.rabbitmq_url, self.broker.get_declared_queues)
        return StubDeadLetterQueues(self.broker)

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each of our queues, their delay and dead-letter queues."""
        if self.settings.broker != "rabbitmq":
            return {}
        return queue_depths(self.settings.rabbitmq_url, steps.QUEUES)

    def record_death(self, dead: DeadMessage) -> None:
        """A message died: its dead letter and an ALERT, in one transaction."""
        with self.uow() as uow:
            dead_letters.record(uow, dead)
            uow.commit()

    @property
    def redis(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=5)
        return self._redis


def declare_actors(container: Container) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Bind every step, with what it needs, to the container's broker under its business name and queue."""
    broker = container.broker
    declared: dict[str, dramatiq.Actor[Any, Any]] = {}
    bound = actors.bound_steps(container.uow, lambda: container.stp_client, lambda: container.payout_config,
                               lambda: container.dead_letter_queues, container.sessions, lambda: container.bulk,
                               lambda: container.settings.customer_default_dpd)
    add_log_context(broker, {step.actor_name: step.about for step, _ in bound if step.about})
    for step, fn in bound:
        if step.actor_name in broker.actors:  # a broker shared by two containers keeps the first's steps
            declared[step.actor_name] = broker.get_actor(step.actor_name)
            continue
        declare: Any = dramatiq.actor  # its overloads do not cover a plain callable with a broker
        declared[step.actor_name] = declare(fn, actor_name=step.actor_name, queue_name=step.queue_name, broker=broker)
    return declared


def build_container(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
                    new_id: Callable[[], str] | None = None) -> Container:
    """Everything a process needs, from one Settings object; tests give a clock and an id source."""
    settings = settings or Settings()
    if not settings.database_url:
        raise RuntimeError("DISPERSA_DATABASE_URL is not set (nor in ./.env): `make up` writes a .env with the dev "
                           "database; production sets mysql+pymysql://user:pass@host:3306/db")
    KEYRING.load(settings.data_keys)
    engine = build_engine(settings.database_url, settings.db_lock_wait_seconds, settings.db_pool_size,
                          settings.db_max_overflow)
    container = Container(settings=settings, engine=engine, sessions=session_factory(engine),
                          broker=StubBroker())
    if clock is not None:
        container.clock = clock
    if new_id is not None:
        container.new_id = new_id
    container.broker = build_broker(settings, container.uow, container.record_death, container.clock)
    declare_actors(container)
    return container


def process_container(settings: Settings | None = None) -> Container:
    """``build_container`` for a long-running process (web, worker, relay, scheduler): it refuses to start,
    saying why, when the database does not run its sessions in strict mode. A database that cannot be
    reached yet is left to the health check."""
    container = build_container(settings)
    try:
        require_strict(container.engine)
    except NotStrict as e:
        raise SystemExit(f"dispersa refuses to start: {e}") from None
    except OperationalError as e:
        log.warning("the database could not be reached at start-up to check its sql_mode: %s", e.orig)
    return container


def relay(container: Container, queues: tuple[str, ...] = ()) -> Relay:
    """The outbox relay of the container's database and broker (``queues`` only, when given)."""
    s = container.settings
    return Relay(container.sessions, container.broker, container.clock, s.relay_batch_size, s.relay_idle_seconds,
                 queues)


def web_app(container: Container) -> falcon.App[falcon.Request, falcon.Response]:
    """The web process's app, given only what the web needs."""
    s = container.settings
    health = {"database": database_check(container.engine), "broker": broker_check(s.broker, s.rabbitmq_url),
              "redis": redis_check(lambda: container.redis)}
    return create_app(container.uow, WebSettings(s.webhook_secret, s.max_adjustment, s.max_body_bytes,
                                                 s.body_read_seconds, s.bulk_max_bytes, s.bulk_max_json_bytes,
                                                 s.adjustment_approval_above, s.gsma_callback_secret,
                                                 s.customer_default_dpd),
                      health, MinuteCounter(lambda: container.redis, "webhook_refused"), container.payout_config,
                      container.queue_depths, container.clock,
                      BulkServices(container.storage, {"gsma": gsma_callback},
                                   CallbackAddresses.allowing(s.callback_allow)))


def configure_logging(settings: Settings) -> None:
    """One log format for every process, at DISPERSA_LOG_LEVEL: JSON lines with DISPERSA_LOG_JSON=1."""
    logs.configure(settings.log_level, settings.log_json)
