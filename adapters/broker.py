"""The message broker: RabbitMQ (or Dramatiq's in-process stub for the embedded demo), its retry
policy and the middleware that records failures. Failed steps are logged with the ids they were
working on, lock waits are retried without end, steps that can never succeed are not retried, and a
message that goes to its dead-letter queue raises an alert. While a step works, its log lines carry the
UETR or batch its message is about."""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Callable

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Retries

from adapters import logs
from adapters.clock import utc_now
from adapters.db.errors import is_bad_value, is_lock_wait
from adapters.db.uow import UnitOfWork
from adapters.settings import Settings
from domain.dead_letters import DeadMessage, error_of
from domain.errors import DomainError

log = logging.getLogger("dispersa.actors")

def cannot_succeed(error: BaseException) -> bool:
    """A rule's refusal (every domain error) or a value that does not fit its column: the same message
    fails the same way however often it is retried."""
    return isinstance(error, DomainError) or is_bad_value(error)


def retry_policy(max_retries: int) -> Callable[[int, BaseException], bool]:
    """Dramatiq's ``retry_when``: lock waits and deadlocks always retried (with backoff), a step that
    can never succeed never retried, anything else up to ``max_retries`` times."""

    def retry_when(retries: int, error: BaseException) -> bool:
        if is_lock_wait(error):
            return True
        if cannot_succeed(error):
            return False
        return retries < max_retries

    return retry_when


def last_attempt(max_retries: int) -> Callable[[], bool]:
    """Whether the message the current step works on will not be retried if it fails (for a step that
    fails on something other than a rule, and would rather give up its own way than die)."""
    def last() -> bool:
        message = CurrentMessage.get_current_message()
        return message is None or int(message.options.get("retries", 0)) >= max_retries
    return last


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


RecordDeath = Callable[[DeadMessage], None]


class FailureLog(dramatiq.Middleware):
    """Logs a failing message (actor, business ids, retry count) and records it in the event log; a
    message that dies (is dead-lettered to ``<queue>.XQ``) is handed to ``record_death``, which keeps
    its dead letter and raises an ALERT in one transaction."""

    def __init__(self, uow: Callable[[], UnitOfWork], record_death: RecordDeath | None = None,
                 clock: Callable[[], datetime] = utc_now):
        self._uow = uow
        self._record_death = record_death
        self._clock = clock

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        if exception is None:
            return
        retries = message.options.get("retries", 0)
        text = f"{message.actor_name}{tuple(message.args)} failed (retry {retries}): {exception!r}"
        if is_lock_wait(exception):
            log.warning("%s message_id=%s; retried until the lock is free", text, message.message_id)
            if _is_power_of_two(retries + 1):  # an event now and then, not one per retry
                self._record("actor_lock_wait", text, "WARNING", message, retries)
            return
        log.error("%s message_id=%s", text, message.message_id)
        self._record("actor_failure", text, "ERROR", message, retries)

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        traceback = str(message.options.get("traceback") or "")
        dead = DeadMessage(message.message_id, message.queue_name, message.actor_name, list(message.args),
                           int(message.options.get("retries", 0)), error_of(traceback), traceback, self._clock())
        log.error("ALERT %s%s was dead-lettered to %s.XQ after %d attempts: %s message_id=%s", dead.actor_name,
                  tuple(dead.args), dead.queue_name, dead.attempts, dead.error, dead.message_id)
        if self._record_death is None:
            self._record("dead_letter", f"{dead.actor_name}{tuple(dead.args)} died after {dead.attempts} attempts: "
                         f"{dead.error}", "ALERT", message, dead.attempts)
            return
        try:
            self._record_death(dead)
        except Exception:  # the drain records it from the XQ's copy later
            log.exception("could not record the death of message %s", dead.message_id)

    def _record(self, kind: str, text: str, level: str, message: Any, retries: int) -> None:
        try:
            with self._uow() as uow:
                uow.log(kind, text[:2000], level=level, reference=message.message_id,
                        details={"actor": message.actor_name, "queue": message.queue_name,
                                 "args": list(message.args), "retries": retries})
                uow.commit()
        except Exception:  # the log must never hide the original failure
            log.exception("could not record the failure of message %s", message.message_id)


class LogContext(dramatiq.Middleware):
    """Puts the id a message is about (``about``: actor name to "uetr" or "batch_id", its first argument)
    on every log line its step writes, the failure log's included."""

    def __init__(self, about: dict[str, str]):
        self._about = about
        self._held = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        name = self._about.get(message.actor_name)
        first = message.args[0] if message.args else None
        ids = {name: first} if name and isinstance(first, str) else {}
        self._held.token = logs.enter(**ids, message_id=message.message_id)

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        token = getattr(self._held, "token", None)
        if token is not None:
            self._held.token = None
            logs.leave(token)

    after_skip_message = after_process_message


def build_broker(settings: Settings, uow: Callable[[], UnitOfWork], record_death: RecordDeath | None = None,
                 clock: Callable[[], datetime] = utc_now) -> dramatiq.Broker:
    """RabbitMQ with publisher confirms, or the stub; retries and failures as above."""
    if settings.broker == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker: dramatiq.Broker = RabbitmqBroker(url=settings.rabbitmq_url, confirm_delivery=True)
    else:
        broker = StubBroker()
    configure(broker, settings, uow, record_death, clock)
    return broker


def configure(broker: dramatiq.Broker, settings: Settings, uow: Callable[[], UnitOfWork],
              record_death: RecordDeath | None = None, clock: Callable[[], datetime] = utc_now) -> None:
    """The retry policy and the failure log on a broker (once, however often it is called); the log
    context is added with the steps (``add_log_context``)."""
    for middleware in broker.middleware:
        if isinstance(middleware, Retries):
            middleware.max_retries = settings.max_retries
            middleware.retry_when = retry_policy(settings.max_retries)
            middleware.min_backoff = settings.min_backoff_ms
            middleware.max_backoff = settings.max_backoff_ms
    if not any(isinstance(m, FailureLog) for m in broker.middleware):
        broker.add_middleware(FailureLog(uow, record_death, clock))
    if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
        broker.add_middleware(CurrentMessage())


def add_log_context(broker: dramatiq.Broker, about: dict[str, str]) -> None:
    """The log context of the steps' messages, around the failure log (once per broker)."""
    if not any(isinstance(m, LogContext) for m in broker.middleware):
        broker.add_middleware(LogContext(about), before=FailureLog)
