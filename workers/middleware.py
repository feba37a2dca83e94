"""Dramatiq middleware: every failed step is logged with the ids it was working on."""
from __future__ import annotations

import logging
from typing import Any, Callable

import dramatiq

from adapters.db.uow import UnitOfWork

log = logging.getLogger("dispersa.actors")


class FailureLog(dramatiq.Middleware):
    """Logs a failing message (actor, business ids, retry count) and records it in the event log."""

    def __init__(self, uow: Callable[[], UnitOfWork]):
        self._uow = uow

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        if exception is None:
            return
        retries = message.options.get("retries", 0)
        text = f"{message.actor_name}{tuple(message.args)} failed (retry {retries}): {exception!r}"
        log.error("%s message_id=%s", text, message.message_id)
        try:
            with self._uow() as uow:
                uow.log("actor_failure", text[:2000], level="ERROR", reference=message.message_id,
                        details={"actor": message.actor_name, "args": list(message.args), "retries": retries})
                uow.commit()
        except Exception:  # the log must never hide the original failure
            log.exception("could not record the failure of message %s", message.message_id)
