"""Log lines as JSON (DISPERSA_LOG_JSON=1), one object a line, carrying the ids that let operations find
a payment: ``uetr``, ``tracking_key``, ``batch_id`` (and the store or transfer), when the line is about one.
A step's log lines carry the UETR or batch of the message it handles (``enter``, by the broker's log
context), and every line, in either format, has the bank accounts it names masked."""
from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone
from typing import Any

from domain import masking

IDS = ("uetr", "tracking_key", "batch_id", "store_id", "bank_transfer_id", "kind", "message_id")
_ABOUT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("dispersa_log_ids", default={})


def enter(**ids: Any) -> contextvars.Token[dict[str, Any]]:
    """From now on in this thread, every line logged carries these ids (a step's UETR or batch), unless
    it names its own; ``leave`` with the token ends it."""
    return _ABOUT.set({**_ABOUT.get(), **{k: v for k, v in ids.items() if v is not None}})


def leave(token: contextvars.Token[dict[str, Any]]) -> None:
    _ABOUT.reset(token)


class PaymentContext(logging.Filter):
    """Adds the ids of the work under way to each line, and masks every CLABE its text and its traceback
    hold."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _ABOUT.get().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = masking.in_text(_TRACEBACKS.formatException(record.exc_info))
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it when it formats the line, as without us
            return True
        masked = masking.in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_TRACEBACKS = logging.Formatter()


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time (UTC), level, logger, message, the ids it carries, and the
    traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({name: getattr(record, name) for name in IDS if getattr(record, name, None) is not None})
        if record.exc_info:
            line["traceback"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, as_json: bool) -> None:
    """The root logger of a process: JSON lines, or the plain format."""
    if as_json:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:  # keeps a handler the process has already (a dramatiq worker's pipe to its parent)
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for each in logging.getLogger().handlers:
        if not any(isinstance(f, PaymentContext) for f in each.filters):
            each.addFilter(PaymentContext())
