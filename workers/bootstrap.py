"""The composition root: engine, broker, Redis, clock and ids, built from one Settings object."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import actors
from actors import runtime
from adapters.db.engine import build_engine, session_factory
from adapters.db.outbox import new_message_id
from adapters.db.uow import UnitOfWork
from adapters.bank.signer import Signer
from adapters.bank.stp_client import StpClient
from adapters.ratelimit import LocalRateLimiter, RateLimiter
from adapters.settings import Settings
from domain.payment_orders import Ordering
from domain.stp import DEFAULT_ESTADOS, OrderOutcome
from usecases.payouts import PayoutConfig
from workers.middleware import FailureLog, retry_policy

log = logging.getLogger("dispersa")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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
    _stp_client: Any = field(default=None, repr=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, self.new_id)

    @property
    def payout_config(self) -> PayoutConfig:
        s = self.settings
        estados = dict(DEFAULT_ESTADOS)
        estados.update({k: OrderOutcome(v) for k, v in s.stp_estados.items()})
        return PayoutConfig(Ordering(s.stp_empresa, s.stp_ordering_account, s.stp_ordering_name, s.stp_ordering_rfc),
                            s.stp_tracking_prefix, estados, s.stp_send_rounds)

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
    def redis(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=5)
        return self._redis


def build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.broker == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker: dramatiq.Broker = RabbitmqBroker(url=settings.rabbitmq_url, confirm_delivery=True)
    else:
        broker = StubBroker()
    for middleware in broker.middleware:
        if isinstance(middleware, Retries):
            middleware.max_retries = settings.max_retries
            middleware.retry_when = retry_policy(settings.max_retries)
            middleware.min_backoff = settings.min_backoff_ms
            middleware.max_backoff = settings.max_backoff_ms
    return broker


def declare_actors(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """Bind every step to the broker under its business name and queue."""
    declared = {}
    for fn, step in actors.ACTORS:
        if step.actor_name in broker.actors:
            declared[step.actor_name] = broker.get_actor(step.actor_name)
            continue
        declared[step.actor_name] = dramatiq.actor(
            fn, actor_name=step.actor_name, queue_name=step.queue_name, broker=broker)
    return declared


def build_container(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
                    new_id: Callable[[], str] | None = None, broker: dramatiq.Broker | None = None) -> Container:
    settings = settings or Settings()
    if not settings.database_url:
        raise RuntimeError("DISPERSA_DATABASE_URL is not set (nor in ./.env): `make up` writes a .env with the dev "
                           "database; production sets mysql+pymysql://user:pass@host:3306/db")
    engine = build_engine(settings.database_url, settings.db_lock_wait_seconds)
    container = Container(settings=settings, engine=engine, sessions=session_factory(engine),
                          broker=broker or build_broker(settings))
    if clock is not None:
        container.clock = clock
    if new_id is not None:
        container.new_id = new_id
    if not any(isinstance(m, FailureLog) for m in container.broker.middleware):
        container.broker.add_middleware(FailureLog(container.uow))
    declare_actors(container.broker)
    runtime.configure(container)
    return container


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
